#!/usr/bin/env bash
# Creates the Cloud Monitoring dashboard and the alert policies of this folder in a project.
#   ops/monitoring/apply.sh PROJECT_ID [NOTIFICATION_CHANNEL ...]
# Notification channels are resource names (projects/P/notificationChannels/N: `gcloud beta monitoring
# channels list`). Running it twice makes a second copy of each: delete the old ones first
# (`gcloud monitoring dashboards list`, `gcloud monitoring policies list --filter='displayName:"Virtuoso API"'`).
set -euo pipefail
project="${1:?usage: apply.sh PROJECT_ID [NOTIFICATION_CHANNEL ...]}"
shift
here="$(cd "$(dirname "$0")" && pwd)"
channels=()
[ "$#" -gt 0 ] && channels=(--notification-channels="$(IFS=,; echo "$*")")
gcloud monitoring dashboards create --project="$project" --config-from-file="$here/dashboard.json"
for policy in "$here"/alerts/*.json; do
  gcloud monitoring policies create --project="$project" --policy-from-file="$policy" "${channels[@]}"
done
