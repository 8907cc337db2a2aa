# Windows twin of postdeploy.sh: subscribes the Split function to completed uploads once its key exists.
$ErrorActionPreference = 'Stop'

$splitFunction = 'Split'
$subscription = 'split-uploads'

$key = ''
foreach ($attempt in 1..10) {
  $key = az functionapp keys list --name $env:AZURE_FUNCTION_APP_NAME --resource-group $env:AZURE_RESOURCE_GROUP `
    --query 'systemKeys.blobs_extension' --output tsv 2>$null
  if ($key) { break }
  Write-Host "Waiting for the blobs_extension key ($attempt/10)..."
  Start-Sleep -Seconds 15
}
if (-not $key) {
  throw "No blobs_extension key on $($env:AZURE_FUNCTION_APP_NAME): is the $splitFunction function deployed?"
}

$hostName = az functionapp show --name $env:AZURE_FUNCTION_APP_NAME --resource-group $env:AZURE_RESOURCE_GROUP `
  --query 'properties.defaultHostName' --output tsv
$endpoint = "https://$hostName/runtime/webhooks/blobs?functionName=Host.Functions.$splitFunction&code=$key"
# az is a .cmd script on Windows: cmd.exe would cut the URL at '&' unless it arrives quoted.
$quotedEndpoint = '"' + $endpoint + '"'

az eventgrid system-topic event-subscription create `
  --name $subscription `
  --resource-group $env:AZURE_RESOURCE_GROUP `
  --system-topic-name $env:UPLOADS_SYSTEM_TOPIC `
  --endpoint-type webhook `
  --endpoint $quotedEndpoint `
  --included-event-types Microsoft.Storage.BlobCreated `
  --subject-begins-with "/blobServices/default/containers/$($env:UPLOADS_CONTAINER)/" `
  --advanced-filter data.api StringIn PutBlob PutBlockList CopyBlob FlushWithClose `
  --output none
if ($LASTEXITCODE -ne 0) { throw 'Creating the Event Grid subscription failed.' }

$uploads = $env:UPLOADS_CONTAINER
Write-Host "Event Grid subscription '$subscription' delivers new blobs in '$uploads' to $splitFunction."
