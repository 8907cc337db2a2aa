// The Custom Vision Prediction API's key: a secret in a vault that accepts Entra ID (RBAC) only. The function app
// reads it through a Key Vault reference in its app settings, with its own identity.
param name string
param location string
param tags object
@description('The secret\'s name (the function app\'s setting references it).')
param secretName string
@secure()
@description('The prediction key: azd keeps the existing one or makes a random one (main.parameters.json).')
param secretValue string

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
  }

  resource secret 'secrets' = {
    name: secretName
    properties: { value: secretValue, contentType: 'Custom Vision Prediction-Key' }
  }
}

output name string = vault.name
// Without a version: the app follows a rotated secret.
output secretUri string = vault::secret.properties.secretUri
