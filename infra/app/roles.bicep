// Who may do what, and nothing more. the README's Deployment section has this as a table; Infra.Tests checks it.
param dataAccountName string
param hostAccountName string
param registryName string
param applicationInsightsName string
param modelsContainer string
param trainerQueues string[]
param functionsIdentity { id: string, principalId: string }
param trainerIdentity { id: string, principalId: string }
param keyVaultName string
param predictionKeySecretName string
@description('The person running azd (optional): may upload datasets and read results.')
param userPrincipalId string = ''

var roleIds = {
  blobOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  blobContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  blobReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  queueContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  metricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
}

resource data 'Microsoft.Storage/storageAccounts@2025-01-01' existing = { name: dataAccountName }
resource dataBlobs 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' existing = {
  parent: data
  name: 'default'
}
resource dataQueues 'Microsoft.Storage/storageAccounts/queueServices@2025-01-01' existing = {
  parent: data
  name: 'default'
}
resource models 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' existing = {
  parent: dataBlobs
  name: modelsContainer
}
resource trainingQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2025-01-01' existing = [
  for name in trainerQueues: { parent: dataQueues, name: name }
]
resource hostAccount 'Microsoft.Storage/storageAccounts@2025-01-01' existing = { name: hostAccountName }
resource registry 'Microsoft.ContainerRegistry/registries@2025-04-01' existing = { name: registryName }
resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = { name: applicationInsightsName }
resource vault 'Microsoft.KeyVault/vaults@2024-11-01' existing = { name: keyVaultName }
resource predictionKey 'Microsoft.KeyVault/vaults/secrets@2024-11-01' existing = {
  parent: vault
  name: predictionKeySecretName
}

// --- functions identity ---
resource functionsHostBlobs 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostAccount.id, functionsIdentity.id, roleIds.blobOwner)
  scope: hostAccount
  properties: {
    description: 'Functions host: keys, leases, deployment package'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.blobOwner)
    principalId: functionsIdentity.principalId
    principalType: 'ServicePrincipal'
  }
}
resource functionsHostQueues 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostAccount.id, functionsIdentity.id, roleIds.queueContributor)
  scope: hostAccount
  properties: {
    description: 'Functions host: the blob trigger\'s internal queue'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.queueContributor)
    principalId: functionsIdentity.principalId
    principalType: 'ServicePrincipal'
  }
}
resource functionsDataBlobs 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(data.id, functionsIdentity.id, roleIds.blobContributor)
  scope: data
  properties: {
    description: 'Split files uploads into train/test/rejected; dispatch writes training.json; Score reads models'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.blobContributor)
    principalId: functionsIdentity.principalId
    principalType: 'ServicePrincipal'
  }
}
resource functionsDataQueues 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(data.id, functionsIdentity.id, roleIds.queueContributor)
  scope: data
  properties: {
    description: 'Queue TrainingJobs and settle checks; triggers\' poison queues, created on demand, live here too'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.queueContributor)
    principalId: functionsIdentity.principalId
    principalType: 'ServicePrincipal'
  }
}
resource functionsTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, functionsIdentity.id, roleIds.metricsPublisher)
  scope: applicationInsights
  properties: {
    description: 'Send telemetry (local auth is off)'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.metricsPublisher)
    principalId: functionsIdentity.principalId
    principalType: 'ServicePrincipal'
  }
}
resource functionsPredictionKey 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(predictionKey.id, functionsIdentity.id, roleIds.keyVaultSecretsUser)
  scope: predictionKey
  properties: {
    description: 'Read the Custom Vision Prediction-Key through the app setting\'s Key Vault reference'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
    principalId: functionsIdentity.principalId
    principalType: 'ServicePrincipal'
  }
}

// --- trainer identity (the job and its KEDA scale rule) ---
resource trainerDataBlobs 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(data.id, trainerIdentity.id, roleIds.blobReader)
  scope: data
  properties: {
    description: 'Trainer: read datasets and their train.json'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.blobReader)
    principalId: trainerIdentity.principalId
    principalType: 'ServicePrincipal'
  }
}
resource trainerModels 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(models.id, trainerIdentity.id, roleIds.blobContributor)
  scope: models
  properties: {
    description: 'Trainer: write ModelVersions, latest.json, training.json'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.blobContributor)
    principalId: trainerIdentity.principalId
    principalType: 'ServicePrincipal'
  }
}
resource trainerQueueAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (name, i) in trainerQueues: {
    name: guid(trainingQueues[i].id, trainerIdentity.id, roleIds.queueContributor)
    scope: trainingQueues[i]
    properties: {
      description: 'Trainer and its KEDA rule: peek, take, keep hidden, delete TrainingJobs; poison failures'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.queueContributor)
      principalId: trainerIdentity.principalId
      principalType: 'ServicePrincipal'
    }
  }
]
resource trainerPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, trainerIdentity.id, roleIds.acrPull)
  scope: registry
  properties: {
    description: 'Pull the trainer image'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.acrPull)
    principalId: trainerIdentity.principalId
    principalType: 'ServicePrincipal'
  }
}
resource trainerTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, trainerIdentity.id, roleIds.metricsPublisher)
  scope: applicationInsights
  properties: {
    description: 'Send telemetry (local auth is off)'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.metricsPublisher)
    principalId: trainerIdentity.principalId
    principalType: 'ServicePrincipal'
  }
}

// --- the person running azd ---
resource userData 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(userPrincipalId)) {
  name: guid(data.id, userPrincipalId, roleIds.blobContributor)
  scope: data
  properties: {
    description: 'You: upload datasets, read splits and models (shared keys are off)'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.blobContributor)
    principalId: userPrincipalId
  }
}
resource userPredictionKey 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(userPrincipalId)) {
  name: guid(predictionKey.id, userPrincipalId, roleIds.keyVaultSecretsUser)
  scope: predictionKey
  properties: {
    description: 'You: read the Prediction-Key to hand to clients; azd reads it to keep it on the next provision'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
    principalId: userPrincipalId
  }
}
