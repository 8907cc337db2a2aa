// Blob events of the data account. The subscription to the Split function is made by the postdeploy hook
// (infra/hooks), because its webhook needs the blobs_extension key, which exists only once the code is deployed.
param name string
param location string
param tags object
param storageAccountId string

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    source: storageAccountId
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

output name string = topic.name
