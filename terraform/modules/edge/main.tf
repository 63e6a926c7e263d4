locals {
  name = var.name

  # Cloud Armor accepts at most 10 ranges per basic rule.
  cloudflare_range_chunks = chunklist(var.cloudflare_ip_ranges, 10)

  rate_limited_paths = join(" or ", concat(
    [for p in var.rate_limited_path_prefixes : "starts_with(http.request.uri.path, \"${p}\")"],
    [for p in var.rate_limited_exact_paths : "http.request.uri.path eq \"${p}\""],
  ))
  # Rate limiting rules differ by Cloudflare plan (https://developers.cloudflare.com/waf/rate-limiting-rules/#availability):
  # Free may match on the path only and count over 10 s with a 10 s block; Pro adds the host and 60 s;
  # Business up to 10 minutes and a day's block; Enterprise everything.
  plan_limits = {
    free       = { periods = [10], max_timeout = 10, host_field = false }
    pro        = { periods = [10, 60], max_timeout = 3600, host_field = true }
    business   = { periods = [10, 60, 120, 300, 600], max_timeout = 86400, host_field = true }
    enterprise = { periods = [10, 60, 120, 300, 600, 3600], max_timeout = 86400, host_field = true }
  }
  limits = local.plan_limits[var.cloudflare_plan]
  rate_limited_expression = (local.limits.host_field
    ? format("(http.host eq \"%s\" and (%s))", var.api_host, local.rate_limited_paths)
  : "(${local.rate_limited_paths})")
  origin_mtls = var.cloudflare_origin_pull_ca_pem != null
  # Managed rulesets (Cloudflare Managed, OWASP core) need Pro or above; Free zones get Cloudflare's free
  # managed ruleset automatically.
  waf_managed_enabled = var.cloudflare_plan != "free" && length(var.waf_managed_ruleset_ids) > 0
}

# ---- Google side: HTTPS load balancer -> serverless NEG -> Cloud Run, guarded by Cloud Armor ----

resource "google_compute_region_network_endpoint_group" "api" {
  project               = var.project_id
  name                  = "${local.name}-neg"
  region                = var.region
  network_endpoint_type = "SERVERLESS"

  cloud_run {
    service = var.cloud_run_service_name
  }
}

resource "google_compute_security_policy" "origin" {
  project     = var.project_id
  name        = "${local.name}-cloudflare-only"
  description = "Only Cloudflare may reach the Atlas API origin."
  type        = "CLOUD_ARMOR"

  rule {
    action      = "deny(403)"
    priority    = 100
    description = "Log4j JNDI lookups (CVE-2021-44228); defence in depth behind the Cloudflare WAF."
    match {
      expr {
        expression = "evaluatePreconfiguredWaf('cve-canary')"
      }
    }
  }

  rule {
    action      = "deny(403)"
    priority    = 200
    description = "Requests for another host name (someone else's Cloudflare zone pointed at this address)."
    match {
      expr {
        expression = "request.headers['host'] != '${var.api_host}'"
      }
    }
  }

  dynamic "rule" {
    for_each = local.cloudflare_range_chunks
    content {
      action      = "allow"
      priority    = 1000 + rule.key
      description = "Cloudflare edge ranges (${rule.key + 1}/${length(local.cloudflare_range_chunks)})."
      match {
        versioned_expr = "SRC_IPS_V1"
        config {
          src_ip_ranges = rule.value
        }
      }
    }
  }

  rule {
    action      = "deny(403)"
    priority    = 2147483647
    description = "Default: deny everything that is not Cloudflare."
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
  }
}

resource "google_compute_backend_service" "api" {
  project               = var.project_id
  name                  = "${local.name}-backend"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  protocol              = "HTTPS"
  security_policy       = google_compute_security_policy.origin.id

  backend {
    group = google_compute_region_network_endpoint_group.api.id
  }

  log_config {
    enable      = true
    sample_rate = var.lb_log_sample_rate
  }
}

resource "google_compute_url_map" "api" {
  project         = var.project_id
  name            = "${local.name}-urlmap"
  default_service = google_compute_backend_service.api.id
}

# DNS authorization lets Google issue the origin certificate while the public record is proxied by Cloudflare.
resource "google_certificate_manager_dns_authorization" "api" {
  project = var.project_id
  name    = "${local.name}-dnsauth"
  domain  = var.api_host
}

resource "google_certificate_manager_certificate" "api" {
  project = var.project_id
  name    = "${local.name}-cert"

  managed {
    domains            = [var.api_host]
    dns_authorizations = [google_certificate_manager_dns_authorization.api.id]
  }
}

resource "google_certificate_manager_certificate_map" "api" {
  project = var.project_id
  name    = "${local.name}-certmap"
}

# Only this host name has a certificate: a TLS handshake for any other SNI finds none.
resource "google_certificate_manager_certificate_map_entry" "api" {
  project      = var.project_id
  name         = "${local.name}-certmap-entry"
  map          = google_certificate_manager_certificate_map.api.name
  certificates = [google_certificate_manager_certificate.api.id]
  hostname     = var.api_host
}

resource "google_compute_ssl_policy" "api" {
  project         = var.project_id
  name            = "${local.name}-tls"
  profile         = "RESTRICTED"
  min_tls_version = "TLS_1_2"
}

resource "google_compute_target_https_proxy" "api" {
  project           = var.project_id
  name              = "${local.name}-https"
  url_map           = google_compute_url_map.api.id
  certificate_map   = "//certificatemanager.googleapis.com/${google_certificate_manager_certificate_map.api.id}"
  ssl_policy        = google_compute_ssl_policy.api.id
  server_tls_policy = local.origin_mtls ? google_network_security_server_tls_policy.cloudflare[0].id : null
}

# ---- Authenticated origin pulls: the load balancer accepts only TLS clients holding Cloudflare's origin-pull
# certificate (mTLS). Nothing secret is involved: the trust anchor is Cloudflare's public CA certificate, so no
# shared secret sits in Terraform state or in the Cloud Armor policy.
# https://developers.cloudflare.com/ssl/origin-configuration/authenticated-origin-pull/
# https://cloud.google.com/load-balancing/docs/mtls

data "google_project" "this" {
  count = local.origin_mtls ? 1 : 0

  project_id = var.project_id
}

resource "google_certificate_manager_trust_config" "cloudflare" {
  count = local.origin_mtls ? 1 : 0

  project     = var.project_id
  name        = "${local.name}-cloudflare-origin-pull"
  location    = "global"
  description = "Cloudflare's authenticated-origin-pull CA: the only client certificates the origin accepts."

  trust_stores {
    trust_anchors {
      pem_certificate = var.cloudflare_origin_pull_ca_pem
    }
  }
}

# google-beta: the resource has long been beta-only in the provider, and the beta provider also serves GA APIs.
resource "google_network_security_server_tls_policy" "cloudflare" {
  count    = local.origin_mtls ? 1 : 0
  provider = google-beta

  project     = var.project_id
  name        = "${local.name}-cloudflare-mtls"
  location    = "global"
  description = "Reject TLS clients without a certificate from Cloudflare's origin-pull CA."

  mtls_policy {
    client_validation_mode         = "REJECT_INVALID"
    client_validation_trust_config = "projects/${data.google_project.this[0].number}/locations/global/trustConfigs/${google_certificate_manager_trust_config.cloudflare[0].name}"
  }
}

resource "cloudflare_authenticated_origin_pulls" "zone" {
  count = local.origin_mtls ? 1 : 0

  zone_id = var.cloudflare_zone_id
  enabled = true
}

resource "google_compute_global_address" "api" {
  project    = var.project_id
  name       = "${local.name}-ip"
  ip_version = "IPV4"
}

resource "google_compute_global_forwarding_rule" "api" {
  project               = var.project_id
  name                  = "${local.name}-https"
  target                = google_compute_target_https_proxy.api.id
  ip_address            = google_compute_global_address.api.id
  ip_protocol           = "TCP"
  port_range            = "443"
  load_balancing_scheme = "EXTERNAL_MANAGED"
}

# ---- Cloudflare side ----

resource "cloudflare_record" "api" {
  zone_id = var.cloudflare_zone_id
  name    = var.api_host
  type    = "A"
  content = google_compute_global_address.api.address
  proxied = true
  ttl     = 1
  comment = "Atlas API (origin: Google HTTPS load balancer)"
}

resource "cloudflare_record" "acme" {
  zone_id = var.cloudflare_zone_id
  name    = trimsuffix(google_certificate_manager_dns_authorization.api.dns_resource_record[0].name, ".")
  type    = google_certificate_manager_dns_authorization.api.dns_resource_record[0].type
  content = trimsuffix(google_certificate_manager_dns_authorization.api.dns_resource_record[0].data, ".")
  proxied = false
  ttl     = 300
  comment = "Google Certificate Manager DNS authorization for the Atlas origin certificate"
}

resource "cloudflare_zone_settings_override" "tls" {
  zone_id = var.cloudflare_zone_id

  settings {
    ssl                      = "strict"
    always_use_https         = "on"
    min_tls_version          = "1.2"
    tls_1_3                  = "on"
    automatic_https_rewrites = "on"
  }
}

resource "cloudflare_ruleset" "waf_managed" {
  count = local.waf_managed_enabled ? 1 : 0

  zone_id     = var.cloudflare_zone_id
  name        = "Atlas managed WAF"
  description = "Cloudflare managed rulesets in front of the Atlas API."
  kind        = "zone"
  phase       = "http_request_firewall_managed"

  dynamic "rules" {
    for_each = var.waf_managed_ruleset_ids
    content {
      action      = "execute"
      description = "Execute managed ruleset ${rules.key}"
      expression  = "(http.host eq \"${var.api_host}\")"
      enabled     = true
      action_parameters {
        id = rules.value
      }
    }
  }
}

resource "cloudflare_ruleset" "rate_limit" {
  count = var.rate_limit_enabled ? 1 : 0

  zone_id     = var.cloudflare_zone_id
  name        = "Atlas rate limits"
  description = "Rate limit upload, extraction and query paths per client IP."
  kind        = "zone"
  phase       = "http_ratelimit"

  rules {
    action      = "block"
    description = "Upload/extract/query paths"
    expression  = local.rate_limited_expression
    enabled     = true
    ratelimit {
      characteristics     = ["cf.colo.id", "ip.src"]
      period              = var.rate_limit_period
      requests_per_period = var.rate_limit_requests
      mitigation_timeout  = var.rate_limit_mitigation_timeout
    }
  }

  lifecycle {
    precondition {
      condition     = contains(local.limits.periods, var.rate_limit_period)
      error_message = "rate_limit_period ${var.rate_limit_period} is not available on the ${var.cloudflare_plan} plan (allowed: ${join(", ", local.limits.periods)}); set cloudflare_plan or rate_limit_enabled = false."
    }
    precondition {
      condition     = var.rate_limit_mitigation_timeout <= local.limits.max_timeout
      error_message = "rate_limit_mitigation_timeout must be at most ${local.limits.max_timeout} s on the ${var.cloudflare_plan} plan."
    }
  }
}
