#!/usr/bin/env bash
# Raises Event Grid BlobCreated events for blobs in 'uploads', as Azure's Event Grid subscription does,
# at a function app that `func start` runs on this machine with Azurite (which has no Event Grid). Usage:
#   functions/raise-blob-created.sh flowers/rose/a.jpg flowers/rose/b.jpg
# Environment: FUNCTIONS_URL (default http://localhost:7071),
#   BLOB_ENDPOINT (default Azurite's http://127.0.0.1:10000/devstoreaccount1).
set -euo pipefail
functions=${FUNCTIONS_URL:-http://localhost:7071}
blobs=${BLOB_ENDPOINT:-http://127.0.0.1:10000/devstoreaccount1}
for name in "$@"; do
  path=$(node -e 'process.stdout.write(process.argv[1].split("/").map(encodeURIComponent).join("/"))' "$name")
  url="$blobs/uploads/$path"
  event=$(node -e '
    const [name, url] = process.argv.slice(1);
    process.stdout.write(JSON.stringify([{
      id: crypto.randomUUID(), eventType: "Microsoft.Storage.BlobCreated", eventTime: new Date().toISOString(),
      topic: "/subscriptions/local/resourceGroups/local/providers/Microsoft.Storage/storageAccounts/devstoreaccount1",
      subject: `/blobServices/default/containers/uploads/blobs/${name}`,
      data: { api: "PutBlob", url, blobType: "BlockBlob", contentType: "application/octet-stream" },
      dataVersion: "", metadataVersion: "1" }]));' "$name" "$url")
  curl -fsS -X POST "$functions/runtime/webhooks/blobs?functionName=Host.Functions.Split" \
    -H "Content-Type: application/json" -H "aeg-event-type: Notification" -d "$event"
  echo "raised BlobCreated for uploads/$name"
done
