#!/usr/bin/env bash
# Creates the two service accounts of deploy/iam.json (virtuoso-api, virtuoso-tasks) and grants them
# exactly the roles listed there, no more. Idempotent: gcloud adds a binding that exists as a no-op.
#
#   deploy/grant-iam.sh PROJECT_ID REGION           run the gcloud commands
#   deploy/grant-iam.sh PROJECT_ID REGION --print   print them instead (tests/deploy/test_iam.py reads this)
#
# The Cloud Run invoker binding needs the service to exist: run it again after the first deploy.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 PROJECT_ID REGION [--print]" >&2
  exit 2
fi
project="$1" region="$2" mode="${3:-run}"
here="$(cd "$(dirname "$0")" && pwd)"

commands=$(python3 - "$here/iam.json" "$project" "$region" <<'PY'
import json, shlex, sys
spec, project, region = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
def email(name):
    return f"{name}@{project}.iam.gserviceaccount.com"
for name, identity in spec["identities"].items():
    if identity["kind"] != "service account":
        continue  # the operator's roles are documented, not granted here
    print("create", shlex.join(["gcloud", "iam", "service-accounts", "create", name,
          f"--project={project}", f"--display-name=Virtuoso API ({name})"]))
for name, identity in spec["identities"].items():
    if identity["kind"] != "service account":
        continue
    member = f"serviceAccount:{email(name)}"
    for grant in identity["roles"]:
        on, role = grant["on"], grant["role"]
        if on == "project":
            command = ["gcloud", "projects", "add-iam-policy-binding", project]
        elif on.startswith("service account "):
            command = ["gcloud", "iam", "service-accounts", "add-iam-policy-binding",
                       email(on.removeprefix("service account ")), f"--project={project}"]
        elif on.startswith("Cloud Run service "):
            command = ["gcloud", "run", "services", "add-iam-policy-binding",
                       on.removeprefix("Cloud Run service "), f"--project={project}", f"--region={region}"]
        else:
            raise SystemExit(f"iam.json: unknown scope {on!r}")
        kind = "run" if on.startswith("Cloud Run service ") else "grant"
        # --condition=None: no prompt when the project already has conditional bindings.
        condition = ["--condition=None"] if on == "project" else []
        print(kind, shlex.join([*command, f"--member={member}", f"--role={role}", *condition]))
PY
)

while IFS= read -r line; do
  kind="${line%% *}" command="${line#* }"
  if [ "$mode" = "--print" ]; then
    echo "$command"
    continue
  fi
  case "$kind" in
    create)
      name=$(echo "$command" | awk '{print $5}')
      if gcloud iam service-accounts describe "$name@$project.iam.gserviceaccount.com" --project="$project" >/dev/null 2>&1; then
        echo "exists: service account $name"
        continue
      fi
      ;;
    run)
      if ! gcloud run services describe virtuoso-api --project="$project" --region="$region" >/dev/null 2>&1; then
        echo "later: the Cloud Run service does not exist yet; run this script again after the first deploy"
        continue
      fi
      ;;
  esac
  echo "+ $command"
  eval "$command" >/dev/null
done <<<"$commands"
