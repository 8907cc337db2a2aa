// `azd up` entry point: one resource group with the whole pipeline, secure by default.
// Resources and identities are pictured, and the role table explained, in the README's Deployment section.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names and tags derive from it.')
param environmentName string

@description('A region that offers serverless GPUs in Container Apps (and Flex Consumption).')
@allowed(['westus3', 'australiaeast', 'swedencentral'])
@metadata({ azd: { type: 'location' } })
param location string

@description('Serverless GPU for training: T4 by default, A100 for large datasets (needs its own quota).')
@allowed(['Consumption-GPU-NC8as-T4', 'Consumption-GPU-NC24-A100'])
param gpuProfile string = 'Consumption-GPU-NC8as-T4'

@description('Object id of the person running azd; empty to grant nobody data access.')
param principalId string = ''

@secure()
@description('The Custom Vision Prediction API\'s key; azd passes the vault\'s current one, or a new random one.')
param predictionKey string = newGuid()

@description('Days a kept prediction (the predictions container) stays before the lifecycle rule deletes it.')
@minValue(1)
param keepPredictionsDays int = 30

// README: "Sign in with Microsoft Entra ID instead of the function key".
@description('Client id of an Entra app registration users sign in with instead of the function key; empty: off.')
param authClientId string = ''

@description('Tenant of that app registration; empty: the deployment\'s tenant.')
param authTenantId string = ''

@description('Set by azd once the trainer has been deployed, so provisioning keeps its image.')
param trainerExists bool = false

// The names the code uses (core/Contract/StorageNames.cs); Infra.Tests compares the two.
var contract = loadJsonContent('app/contract.json')
var abbrs = loadJsonContent('abbreviations.json')
var token = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var deploymentContainer = 'app-package'
var predictionKeySecret = 'prediction-key'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module functionsIdentity 'core/identity.bicep' = {
  name: 'functions-identity'
  scope: rg
  params: { name: '${abbrs.managedIdentityUserAssignedIdentities}func-${token}', location: location, tags: tags }
}

module trainerIdentity 'core/identity.bicep' = {
  name: 'trainer-identity'
  scope: rg
  params: { name: '${abbrs.managedIdentityUserAssignedIdentities}train-${token}', location: location, tags: tags }
}

// Datasets, splits, models and the training queue: the contract's containers and queues.
module dataStorage 'core/storage-account.bicep' = {
  name: 'data-storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${token}'
    location: location
    tags: tags
    containers: map(items(contract.containers), c => c.value)
    queues: map(items(contract.queues), q => q.value)
    deleteAfterDays: { '${contract.containers.predictions}': keepPredictionsDays }
  }
}

// The Functions host's own account (keys, leases, deployment package), apart so that its broad roles
// do not reach the data.
module hostStorage 'core/storage-account.bicep' = {
  name: 'host-storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}fn${token}'
    location: location
    tags: tags
    containers: [deploymentContainer]
  }
}

module monitoring 'core/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${token}'
    applicationInsightsName: '${abbrs.insightsComponents}${token}'
    location: location
    tags: tags
  }
}

module registry 'core/registry.bicep' = {
  name: 'registry'
  scope: rg
  params: { name: '${abbrs.containerRegistryRegistries}${token}', location: location, tags: tags }
}

// The Custom Vision Prediction API's key (Prediction-Key), read by the function app through a Key Vault reference.
module vault 'core/key-vault.bicep' = {
  name: 'key-vault'
  scope: rg
  params: {
    name: '${abbrs.keyVaultVaults}${token}'
    location: location
    tags: tags
    secretName: predictionKeySecret
    secretValue: predictionKey
  }
}

module roles 'app/roles.bicep' = {
  name: 'roles'
  scope: rg
  params: {
    dataAccountName: dataStorage.outputs.name
    hostAccountName: hostStorage.outputs.name
    registryName: registry.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    modelsContainer: contract.containers.models
    trainerQueues: [contract.queues.training, contract.queues.trainingPoison]
    functionsIdentity: { id: functionsIdentity.outputs.id, principalId: functionsIdentity.outputs.principalId }
    trainerIdentity: { id: trainerIdentity.outputs.id, principalId: trainerIdentity.outputs.principalId }
    keyVaultName: vault.outputs.name
    predictionKeySecretName: predictionKeySecret
    userPrincipalId: principalId
  }
}

module functions 'app/functions.bicep' = {
  name: 'functions'
  scope: rg
  params: {
    name: '${abbrs.webSitesFunctions}${token}'
    planName: '${abbrs.webServerFarms}${token}'
    location: location
    tags: tags
    identityId: functionsIdentity.outputs.id
    identityClientId: functionsIdentity.outputs.clientId
    hostStorage: {
      name: hostStorage.outputs.name
      blobServiceUri: hostStorage.outputs.blobServiceUri
      queueServiceUri: hostStorage.outputs.queueServiceUri
    }
    deploymentContainer: deploymentContainer
    dataStorage: {
      blobServiceUri: dataStorage.outputs.blobServiceUri
      queueServiceUri: dataStorage.outputs.queueServiceUri
    }
    connectionName: contract.connection
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    predictionKeySecretUri: vault.outputs.secretUri
    authClientId: authClientId
    authTenantId: empty(authTenantId) ? tenant().tenantId : authTenantId
  }
  // The app reads its deployment package with its identity as soon as it starts.
  dependsOn: [roles]
}

module events 'app/events.bicep' = {
  name: 'events'
  scope: rg
  params: {
    name: '${abbrs.eventGridSystemTopics}${token}'
    location: location
    tags: tags
    storageAccountId: dataStorage.outputs.id
  }
}

module training 'app/training-job.bicep' = {
  name: 'training'
  scope: rg
  params: {
    environmentName: '${abbrs.appManagedEnvironments}${token}'
    jobName: '${abbrs.appContainerAppsJobs}train-${token}'
    location: location
    tags: tags
    workspaceId: monitoring.outputs.workspaceId
    gpuProfile: gpuProfile
    identityId: trainerIdentity.outputs.id
    identityClientId: trainerIdentity.outputs.clientId
    registryLoginServer: registry.outputs.loginServer
    dataStorage: {
      name: dataStorage.outputs.name
      blobServiceUri: dataStorage.outputs.blobServiceUri
      queueServiceUri: dataStorage.outputs.queueServiceUri
    }
    connectionName: contract.connection
    trainingQueue: contract.queues.training
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    trainerExists: trainerExists
  }
  // The job pulls with AcrPull and scales with the queue role: grant them first.
  dependsOn: [roles]
}

// azd stores these in the environment; the hooks and the README's commands read them.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = registry.outputs.loginServer
output AZURE_FUNCTION_APP_NAME string = functions.outputs.name
output FUNCTIONS_BASE_URL string = 'https://${functions.outputs.defaultHostName}'
output AZURE_STORAGE_ACCOUNT string = dataStorage.outputs.name
output UPLOADS_CONTAINER string = contract.containers.uploads
output UPLOADS_SYSTEM_TOPIC string = events.outputs.name
output TRAINING_JOB_NAME string = training.outputs.jobName
output GPU_PROFILE string = gpuProfile
output AZURE_KEY_VAULT_NAME string = vault.outputs.name
output PREDICTION_KEY_SECRET_NAME string = predictionKeySecret
output STUDIO_URL string = 'https://${functions.outputs.defaultHostName}/api/studio/'
