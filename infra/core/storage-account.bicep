// A storage account that only accepts Entra ID (no shared key, no SAS from keys, no anonymous reads).
param name string
param location string
param tags object
param containers string[] = []
param queues string[] = []
@description('Containers whose blobs are deleted a number of days after they were written: { container: days }.')
param deleteAfterDays object = {}

resource account 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    accessTier: 'Hot'
  }

  resource blobService 'blobServices' = {
    name: 'default'
    resource blobContainers 'containers' = [for container in containers: {
      name: container
      properties: { publicAccess: 'None' }
    }]
  }

  // Blob lifecycle management: one rule per container, deleting blobs a given number of days after creation.
  resource lifecycle 'managementPolicies' = if (!empty(deleteAfterDays)) {
    name: 'default'
    properties: {
      policy: {
        rules: [for rule in items(deleteAfterDays): {
          name: 'delete-${rule.key}'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: { blobTypes: ['blockBlob'], prefixMatch: ['${rule.key}/'] }
            actions: { baseBlob: { delete: { daysAfterCreationGreaterThan: rule.value } } }
          }
        }]
      }
    }
  }

  resource queueService 'queueServices' = {
    name: 'default'
    resource storageQueues 'queues' = [for queue in queues: {
      name: queue
    }]
  }
}

output id string = account.id
output name string = account.name
// Built from the name, not read back, so the URIs are known before deployment (and in `bicep snapshot`).
output blobServiceUri string = 'https://${account.name}.blob.${environment().suffixes.storage}/'
output queueServiceUri string = 'https://${account.name}.queue.${environment().suffixes.storage}/'
