output "topic_ids" {
  description = "Topic ids keyed by un-prefixed event topic (document-uploaded, ...)."
  value       = { for k, t in google_pubsub_topic.event : k => t.id }
}

output "topic_names" {
  description = "Topic names keyed by un-prefixed event topic."
  value       = { for k, t in google_pubsub_topic.event : k => t.name }
}

output "dead_letter_topic_id" {
  description = "Id of the dead-letter topic."
  value       = google_pubsub_topic.dead_letter.id
}

output "dead_letter_subscription_name" {
  description = "Name of the subscription holding dead-lettered messages (watched by the DLQ-depth alert)."
  value       = google_pubsub_subscription.dead_letter.name
}

output "dispatch_subscription_names" {
  description = "Push subscription names keyed by un-prefixed event topic."
  value       = { for k, s in google_pubsub_subscription.dispatch : k => s.name }
}
