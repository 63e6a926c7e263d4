# The whole Atlas environment: every name the code relies on is a literal here, held to the code by tests/infra.
locals {
  topic_prefix      = "atlas"
  api_service_name  = "atlas-api"
  dispatcher_name   = "atlas-dispatcher"
  extract_job_name  = "atlas-extract"
  index_job_name    = "atlas-index"
  sweep_job_name    = "atlas-sweep"
  migrate_job_name  = "atlas-migrate"
  chroma_mount_path = "/mnt/chroma"
  database_name     = "atlas"
  bucket_name       = coalesce(var.bucket_name, "${var.project_id}-atlas-documents")

  labels = merge(var.labels, { app = "atlas", env = var.environment })

  secret_ids = {
    openai_api_key   = "atlas-openai-api-key"
    index_server_key = "atlas-index-server-key"
    api_key_pepper   = "atlas-api-key-pepper"
  }

  # Each component's environment is spelled out in full (no merge) so that every name is visible to
  # review and to the contract test; names are Settings aliases in pipeline/settings.py.
  api_env = {
    ATLAS_RUNTIME             = "gcp"
    FLASK_ENV                 = "production"
    ATLAS_HOST                = "0.0.0.0"
    GOOGLE_CLOUD_PROJECT      = var.project_id
    ATLAS_GCP_REGION          = var.region
    ATLAS_PUBSUB_TOPIC_PREFIX = local.topic_prefix
    ATLAS_GCS_BUCKET          = module.storage.bucket_name
    INSTANCE_CONNECTION_NAME  = module.database.connection_name
    POSTGRES_DB               = module.database.database_name
    POSTGRES_USER             = module.database.iam_users["api"]
    DB_IAM_AUTH               = "true"
    ATLAS_CHROMA_DIR          = local.chroma_mount_path
    CORS_ORIGINS              = join(",", var.cors_origins)
    ATLAS_EXTRACTOR           = var.extractor
    ATLAS_EMBEDDER            = var.embedder
  }

  # The dispatcher builds the full service set: it completes signed uploads (bucket + database) and relays
  # the document.uploaded event that completion writes.
  dispatcher_env = {
    ATLAS_RUNTIME             = "gcp"
    GOOGLE_CLOUD_PROJECT      = var.project_id
    ATLAS_GCP_REGION          = var.region
    ATLAS_PUBSUB_TOPIC_PREFIX = local.topic_prefix
    ATLAS_EXTRACT_JOB         = local.extract_job_name
    ATLAS_INDEX_JOB           = local.index_job_name
    ATLAS_GCS_BUCKET          = module.storage.bucket_name
    INSTANCE_CONNECTION_NAME  = module.database.connection_name
    POSTGRES_DB               = module.database.database_name
    POSTGRES_USER             = module.database.iam_users["dispatcher"]
    DB_IAM_AUTH               = "true"
  }

  extract_env = {
    ATLAS_RUNTIME             = "gcp"
    GOOGLE_CLOUD_PROJECT      = var.project_id
    ATLAS_GCP_REGION          = var.region
    ATLAS_PUBSUB_TOPIC_PREFIX = local.topic_prefix
    ATLAS_GCS_BUCKET          = module.storage.bucket_name
    INSTANCE_CONNECTION_NAME  = module.database.connection_name
    POSTGRES_DB               = module.database.database_name
    POSTGRES_USER             = module.database.iam_users["extract"]
    DB_IAM_AUTH               = "true"
    ATLAS_EXTRACTOR           = var.extractor
    # Cloud Run runs a task max_retries + 1 times; the last attempt ends the document failed instead of retrying.
    ATLAS_JOB_MAX_ATTEMPTS = var.job_max_retries + 1
  }

  index_env = {
    ATLAS_RUNTIME             = "gcp"
    GOOGLE_CLOUD_PROJECT      = var.project_id
    ATLAS_GCP_REGION          = var.region
    ATLAS_PUBSUB_TOPIC_PREFIX = local.topic_prefix
    ATLAS_GCS_BUCKET          = module.storage.bucket_name
    INSTANCE_CONNECTION_NAME  = module.database.connection_name
    POSTGRES_DB               = module.database.database_name
    POSTGRES_USER             = module.database.iam_users["index"]
    DB_IAM_AUTH               = "true"
    ATLAS_CHROMA_DIR          = local.chroma_mount_path
    ATLAS_EMBEDDER            = var.embedder
  }

  sweep_env = {
    ATLAS_RUNTIME             = "gcp"
    GOOGLE_CLOUD_PROJECT      = var.project_id
    ATLAS_GCP_REGION          = var.region
    ATLAS_PUBSUB_TOPIC_PREFIX = local.topic_prefix
    ATLAS_GCS_BUCKET          = module.storage.bucket_name
    INSTANCE_CONNECTION_NAME  = module.database.connection_name
    POSTGRES_DB               = module.database.database_name
    POSTGRES_USER             = module.database.iam_users["sweep"]
    DB_IAM_AUTH               = "true"
  }

  # The migrate identity owns the schema; after migrating it grants each component's user its privileges.
  migrate_env = {
    ATLAS_RUNTIME            = "gcp"
    GOOGLE_CLOUD_PROJECT     = var.project_id
    ATLAS_GCP_REGION         = var.region
    INSTANCE_CONNECTION_NAME = module.database.connection_name
    POSTGRES_DB              = module.database.database_name
    POSTGRES_USER            = module.database.iam_users["migrate"]
    DB_IAM_AUTH              = "true"
    ATLAS_DB_GRANTS          = "api=${module.database.iam_users["api"]},dispatcher=${module.database.iam_users["dispatcher"]},extract=${module.database.iam_users["extract"]},index=${module.database.iam_users["index"]},sweep=${module.database.iam_users["sweep"]}"
  }

  api_secret_env = {
    OPENAI_API_KEY       = module.secrets.secret_ids["openai_api_key"]
    INDEX_SERVER_KEY     = module.secrets.secret_ids["index_server_key"]
    ATLAS_API_KEY_PEPPER = module.secrets.secret_ids["api_key_pepper"]
  }

  # Only the LLM extractor and the OpenAI embedder call OpenAI; nothing else receives the key.
  extract_secret_env = var.extractor == "llm" ? { OPENAI_API_KEY = module.secrets.secret_ids["openai_api_key"] } : {}
  index_secret_env   = var.embedder == "openai" ? { OPENAI_API_KEY = module.secrets.secret_ids["openai_api_key"] } : {}

  observability_roles = ["roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/cloudtrace.agent"]
  database_roles      = ["roles/cloudsql.client", "roles/cloudsql.instanceUser"]
}

module "apis" {
  source     = "../project_services"
  project_id = var.project_id
}

module "network" {
  source            = "../network"
  project_id        = var.project_id
  region            = var.region
  subnet_cidr       = var.subnet_cidr
  index_subnet_cidr = var.index_subnet_cidr

  depends_on = [module.apis]
}

module "registry" {
  source     = "../registry"
  project_id = var.project_id
  region     = var.region
  writers    = var.image_pushers
  labels     = local.labels

  depends_on = [module.apis]
}

module "iam" {
  source     = "../iam"
  project_id = var.project_id

  service_accounts = {
    api = {
      account_id    = "atlas-api"
      display_name  = "Atlas API"
      description   = "Runs the Atlas API (Cloud Run service)."
      project_roles = concat(local.database_roles, local.observability_roles)
    }
    dispatcher = {
      account_id    = "atlas-dispatcher"
      display_name  = "Atlas dispatcher"
      description   = "Turns Pub/Sub events into Cloud Run job executions and completes signed uploads."
      project_roles = concat(local.database_roles, local.observability_roles)
    }
    extract = {
      account_id    = "atlas-extract-job"
      display_name  = "Atlas extract job"
      description   = "Parses and extracts documents (Cloud Run job)."
      project_roles = concat(local.database_roles, local.observability_roles)
    }
    index = {
      account_id    = "atlas-index-job"
      display_name  = "Atlas index job"
      description   = "Single writer of the Chroma index (Cloud Run job)."
      project_roles = concat(local.database_roles, local.observability_roles)
    }
    sweep = {
      account_id    = "atlas-sweep-job"
      display_name  = "Atlas sweep job"
      description   = "Re-drives stuck documents and relays the outbox (scheduled Cloud Run job)."
      project_roles = concat(local.database_roles, local.observability_roles)
    }
    migrate = {
      account_id    = "atlas-migrate-job"
      display_name  = "Atlas migrate job"
      description   = "Owns the database schema: runs migrations and grants the other users their privileges."
      project_roles = concat(local.database_roles, local.observability_roles)
    }
    pubsub_push = {
      account_id    = "atlas-pubsub-push"
      display_name  = "Atlas Pub/Sub push identity"
      description   = "Identity of the OIDC token on push deliveries to the dispatcher; may only invoke it."
      project_roles = []
    }
  }

  # Starting an existing job needs only run.jobs.run / runWithOverrides (the job_runner custom role on each job),
  # not actAs on the job's identity: https://cloud.google.com/run/docs/execute/jobs#required_roles
  # ("Cloud Run Invoker" / "Cloud Run Jobs Executor With Overrides" on the job).
  act_as = {
    # V4 signed upload URLs are signed through the IAM signBlob API as the API's own identity.
    api_sign_urls = { target = "api", actor = "api", role = "roles/iam.serviceAccountTokenCreator" }
  }

  depends_on = [module.apis]
}

module "pubsub" {
  source                     = "../pubsub"
  project_id                 = var.project_id
  topic_prefix               = local.topic_prefix
  event_topics               = ["document-uploaded", "extraction-completed", "index-updated", "document-deleted"]
  dispatched_topics          = ["document-uploaded", "extraction-completed", "document-deleted"]
  dead_letter_dispatch       = true
  push_endpoint              = module.dispatcher.uri
  push_service_account_email = module.iam.emails["pubsub_push"]
  max_delivery_attempts      = var.max_delivery_attempts
  labels                     = local.labels

  publishers = {
    api_uploaded      = { topic = "document-uploaded", member = module.iam.members["api"] }
    api_deleted       = { topic = "document-deleted", member = module.iam.members["api"] }
    api_corrected     = { topic = "extraction-completed", member = module.iam.members["api"] } # human corrections
    extract_completed = { topic = "extraction-completed", member = module.iam.members["extract"] }
    index_updated     = { topic = "index-updated", member = module.iam.members["index"] }
    # upload completion writes document.uploaded and relays it at once
    dispatcher_uploaded = { topic = "document-uploaded", member = module.iam.members["dispatcher"] }
    # the sweep relays whatever the outbox still holds, whichever component wrote it
    sweep_uploaded  = { topic = "document-uploaded", member = module.iam.members["sweep"] }
    sweep_completed = { topic = "extraction-completed", member = module.iam.members["sweep"] }
    sweep_indexed   = { topic = "index-updated", member = module.iam.members["sweep"] }
    sweep_deleted   = { topic = "document-deleted", member = module.iam.members["sweep"] }
  }

  depends_on = [module.apis]
}

module "storage" {
  source                = "../storage"
  project_id            = var.project_id
  bucket_name           = local.bucket_name
  location              = var.region
  notification_topic_id = module.pubsub.topic_ids["document-uploaded"]
  access_log_bucket     = var.access_log_bucket
  labels                = local.labels

  iam_bindings = {
    # objectUser: the API deletes blobs with their document; the extract job stores the parsed form
    api_rw     = { role = "roles/storage.objectUser", member = module.iam.members["api"] }
    extract_rw = { role = "roles/storage.objectUser", member = module.iam.members["extract"] }
    index_get  = { role = "roles/storage.objectViewer", member = module.iam.members["index"] }
    # upload completion (dispatcher, or the sweep for a lost notification) reads the staged object, stores
    # the bytes under their hash and deletes the staged object
    dispatcher_rw = { role = "roles/storage.objectUser", member = module.iam.members["dispatcher"] }
    sweep_rw      = { role = "roles/storage.objectUser", member = module.iam.members["sweep"] }
  }

  depends_on = [module.apis]
}

module "secrets" {
  source     = "../secrets"
  project_id = var.project_id
  secrets    = local.secret_ids
  labels     = local.labels

  accessors = merge(
    {
      api_openai    = { secret = "openai_api_key", member = module.iam.members["api"] }
      api_index_key = { secret = "index_server_key", member = module.iam.members["api"] }
      api_pepper    = { secret = "api_key_pepper", member = module.iam.members["api"] }
    },
    var.extractor == "llm" ? { extract_openai = { secret = "openai_api_key", member = module.iam.members["extract"] } } : {},
    var.embedder == "openai" ? { index_openai = { secret = "openai_api_key", member = module.iam.members["index"] } } : {},
  )

  depends_on = [module.apis]
}

module "database" {
  source                      = "../database"
  project_id                  = var.project_id
  region                      = var.region
  network_id                  = module.network.network_id
  private_services_connection = module.network.private_services_connection
  database_name               = local.database_name
  tier                        = var.db_tier
  availability_type           = var.db_availability_type
  deletion_protection         = var.deletion_protection
  labels                      = local.labels

  iam_service_accounts = {
    api        = module.iam.emails["api"]
    dispatcher = module.iam.emails["dispatcher"]
    extract    = module.iam.emails["extract"]
    index      = module.iam.emails["index"]
    sweep      = module.iam.emails["sweep"]
    migrate    = module.iam.emails["migrate"]
  }
}

module "filestore" {
  source                      = "../filestore"
  project_id                  = var.project_id
  zone                        = var.zone
  network_name                = module.network.network_name
  reserved_ip_range           = module.network.private_services_range_name
  private_services_connection = module.network.private_services_connection
  reader_cidr                 = module.network.subnet_cidr
  writer_cidr                 = module.network.index_subnet_cidr
  deletion_protection         = var.deletion_protection
  labels                      = local.labels
}

module "api" {
  source                = "../run_service"
  project_id            = var.project_id
  region                = var.region
  name                  = local.api_service_name
  image                 = var.api_image
  service_account_email = module.iam.emails["api"]
  ingress               = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
  min_instances         = var.api_min_instances
  max_instances         = var.api_max_instances
  concurrency           = var.api_concurrency
  cpu                   = "2"
  memory                = "2Gi"
  health_path           = var.api_health_path
  network_id            = module.network.network_id
  subnet_id             = module.network.subnet_id
  env                   = local.api_env
  secret_env            = local.api_secret_env
  deletion_protection   = var.deletion_protection
  labels                = local.labels

  # The API reads published Chroma generations only; the index job is the single writer.
  nfs = {
    server     = module.filestore.server
    path       = module.filestore.export_path
    mount_path = local.chroma_mount_path
    read_only  = true
  }

  # Reachable only through the load balancer (ingress above + Cloud Armor); callers authenticate with API keys.
  invokers = { load_balancer = "allUsers" }

  depends_on = [module.secrets]
}

module "dispatcher" {
  source                = "../run_service"
  project_id            = var.project_id
  region                = var.region
  name                  = local.dispatcher_name
  image                 = var.dispatcher_image
  command               = ["functions-framework", "--source=/opt/venv/lib/python3.11/site-packages/jobs/dispatcher.py", "--target=dispatch"]
  service_account_email = module.iam.emails["dispatcher"]
  ingress               = "INGRESS_TRAFFIC_INTERNAL_ONLY"
  min_instances         = 0
  max_instances         = 3
  # Completing a signed upload holds the bytes (up to ATLAS_MAX_UPLOAD_BYTES, 50 MB) about three times over
  # (download, format check, upload): 4 at once fit 2 GiB with the interpreter and client libraries.
  concurrency         = 4
  cpu                 = "1"
  memory              = "2Gi"
  network_id          = module.network.network_id
  subnet_id           = module.network.subnet_id
  env                 = local.dispatcher_env
  deletion_protection = var.deletion_protection
  labels              = local.labels
  invokers            = { pubsub_push = module.iam.members["pubsub_push"] }
}

module "extract_job" {
  source                = "../run_job"
  project_id            = var.project_id
  region                = var.region
  name                  = local.extract_job_name
  image                 = var.extract_image
  command               = ["python", "-m", "jobs.extract"] # the dispatcher overrides args (document ids) only
  service_account_email = module.iam.emails["extract"]
  cpu                   = "2"
  memory                = "2Gi"
  task_timeout          = var.extract_task_timeout
  max_retries           = var.job_max_retries
  parallelism           = 0
  network_id            = module.network.network_id
  subnet_id             = module.network.subnet_id
  env                   = local.extract_env
  secret_env            = local.extract_secret_env
  deletion_protection   = var.deletion_protection
  labels                = local.labels

  runners = {
    dispatcher = { role = module.iam.job_runner_role, member = module.iam.members["dispatcher"] }
  }

  depends_on = [module.secrets]
}

module "index_job" {
  source                = "../run_job"
  project_id            = var.project_id
  region                = var.region
  name                  = local.index_job_name
  image                 = var.index_image # Dockerfile.jobs --target=index: root, to write the NFS share
  command               = ["python", "-m", "jobs.index"]
  service_account_email = module.iam.emails["index"]
  cpu                   = "2"
  memory                = "2Gi"
  task_timeout          = var.index_task_timeout
  max_retries           = var.job_max_retries
  parallelism           = 1
  task_count            = 1
  network_id            = module.network.network_id
  # its own subnet: the only range the Filestore export lets write (and keep root unsquashed)
  subnet_id           = module.network.index_subnet_id
  env                 = local.index_env
  secret_env          = local.index_secret_env
  deletion_protection = var.deletion_protection
  labels              = local.labels

  nfs = {
    server     = module.filestore.server
    path       = module.filestore.export_path
    mount_path = local.chroma_mount_path
    read_only  = false
  }

  runners = {
    dispatcher = { role = module.iam.job_runner_role, member = module.iam.members["dispatcher"] }
  }

  depends_on = [module.secrets]
}

module "sweep_job" {
  source                = "../run_job"
  project_id            = var.project_id
  region                = var.region
  name                  = local.sweep_job_name
  image                 = var.extract_image
  command               = ["python", "-m", "jobs.sweep"]
  service_account_email = module.iam.emails["sweep"]
  cpu                   = "1"
  memory                = "1Gi"
  task_timeout          = "900s"
  max_retries           = 1
  parallelism           = 1
  task_count            = 1
  network_id            = module.network.network_id
  subnet_id             = module.network.subnet_id
  env                   = local.sweep_env
  deletion_protection   = var.deletion_protection
  labels                = local.labels
  runners               = {}
}

# Run once per release by the deploy pipeline (gcloud run jobs execute atlas-migrate --wait), never on a schedule.
module "migrate_job" {
  source                = "../run_job"
  project_id            = var.project_id
  region                = var.region
  name                  = local.migrate_job_name
  image                 = var.extract_image
  command               = ["python", "-m", "jobs.migrate"]
  service_account_email = module.iam.emails["migrate"]
  cpu                   = "1"
  memory                = "512Mi"
  task_timeout          = "600s"
  max_retries           = 0
  parallelism           = 1
  task_count            = 1
  network_id            = module.network.network_id
  subnet_id             = module.network.subnet_id
  env                   = local.migrate_env
  deletion_protection   = var.deletion_protection
  labels                = local.labels
  runners               = {}
}

module "sweep" {
  source          = "../scheduler"
  enabled         = var.sweep_enabled
  project_id      = var.project_id
  region          = var.region
  job_name        = module.sweep_job.name
  job_runner_role = module.iam.job_runner_role
  args            = []
  schedule        = var.sweep_schedule
}

module "observability" {
  source                   = "../observability"
  project_id               = var.project_id
  api_service_name         = module.api.name
  job_names                = [module.extract_job.name, module.index_job.name, module.sweep_job.name]
  dead_letter_subscription = module.pubsub.dead_letter_subscription_name
  region                   = var.region
  sweep_job_name           = module.sweep_job.name
  api_host                 = var.api_host
  api_health_path          = var.api_health_path
  cloudsql_instance        = module.database.instance_name
  filestore_instance       = module.filestore.instance_name
  billing_account_id       = var.billing_account_id
  monthly_budget           = var.monthly_budget
  alert_emails             = var.alert_emails
  notification_channel_ids = var.notification_channel_ids

  depends_on = [module.apis]
}

module "edge" {
  source                        = "../edge"
  project_id                    = var.project_id
  region                        = var.region
  cloud_run_service_name        = module.api.name
  api_host                      = var.api_host
  cloudflare_zone_id            = var.cloudflare_zone_id
  cloudflare_ip_ranges          = var.cloudflare_ip_ranges
  cloudflare_origin_pull_ca_pem = var.cloudflare_origin_pull_ca_pem
  cloudflare_plan               = var.cloudflare_plan
  rate_limit_period             = var.rate_limit_period
  rate_limit_requests           = var.rate_limit_requests
  rate_limit_mitigation_timeout = var.rate_limit_mitigation_timeout

  depends_on = [module.apis]
}
