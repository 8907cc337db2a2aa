#!/bin/sh
# Subscribes the Split function to completed uploads. Runs after `azd deploy`, because the webhook needs
# the blobs_extension system key, which the Functions host creates only once the code is running.
# Reads azd outputs of infra/main.bicep from the environment.
set -eu

split_function="Split"
subscription="split-uploads"

# The host may need a moment after deploy to create the key.
key=""
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  key=$(az functionapp keys list --name "$AZURE_FUNCTION_APP_NAME" --resource-group "$AZURE_RESOURCE_GROUP" \
    --query "systemKeys.blobs_extension" --output tsv 2>/dev/null || true)
  [ -n "$key" ] && break
  echo "Waiting for the blobs_extension key ($attempt/10)..."
  sleep 15
done
if [ -z "$key" ]; then
  echo "No blobs_extension key on $AZURE_FUNCTION_APP_NAME: is the $split_function function deployed?" >&2
  exit 1
fi

host=$(az functionapp show --name "$AZURE_FUNCTION_APP_NAME" --resource-group "$AZURE_RESOURCE_GROUP" \
  --query "properties.defaultHostName" --output tsv)
endpoint="https://$host/runtime/webhooks/blobs?functionName=Host.Functions.$split_function&code=$key"

# Only completed uploads: a block upload also fires for its parts, so filter on the API that finished it.
az eventgrid system-topic event-subscription create \
  --name "$subscription" \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --system-topic-name "$UPLOADS_SYSTEM_TOPIC" \
  --endpoint-type webhook \
  --endpoint "$endpoint" \
  --included-event-types Microsoft.Storage.BlobCreated \
  --subject-begins-with "/blobServices/default/containers/$UPLOADS_CONTAINER/" \
  --advanced-filter data.api StringIn PutBlob PutBlockList CopyBlob FlushWithClose \
  --output none

echo "Event Grid subscription '$subscription' delivers new blobs in '$UPLOADS_CONTAINER' to $split_function."
