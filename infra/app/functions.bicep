// The functions app (Split, Score) on Flex Consumption. Every connection is identity-based:
// the host (AzureWebJobsStorage) and the pipeline's data (the `Storage` connection) both use the app's
// user-assigned identity, so no setting holds a key or a connection string to storage.
param name string
param planName string
param location string
param tags object
param identityId string
param identityClientId string
param hostStorage { name: string, blobServiceUri: string, queueServiceUri: string }
param deploymentContainer string
param dataStorage { blobServiceUri: string, queueServiceUri: string }
@description('The contract\'s connection name (StorageNames.Connection): <name>__blobServiceUri and so on.')
param connectionName string
param applicationInsightsConnectionString string
@description('The Custom Vision Prediction-Key secret (no version), read through a Key Vault reference.')
param predictionKeySecretUri string
param maximumInstanceCount int = 40
param instanceMemoryMB int = 2048
@description('HTTP requests one instance takes at once; Flex Consumption scales out beyond it. Scoring is CPU-bound.')
param httpPerInstanceConcurrency int = 4
@description('Client id of the Entra app registration users sign in with; empty: no App Service authentication.')
param authClientId string = ''
@description('Tenant of that app registration.')
param authTenantId string = tenant().tenantId
// The studio's files (the page sends the browser to sign in), Custom Vision's routes (their own Prediction-Key) and the
// Functions host's webhooks (its system keys; Event Grid calls them).
@description('Paths App Service authentication lets through without a sign-in.')
param authExcludedPaths string[] = ['/api/studio', '/api/studio/*', '/api/customvision/*', '/runtime/webhooks/*']

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2024-11-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'functions' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with the app's user-assigned identity.
    keyVaultReferenceIdentity: identityId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostStorage.blobServiceUri}${deploymentContainer}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        triggers: { http: { perInstanceConcurrency: httpPerInstanceConcurrency } }
      }
      runtime: { name: 'dotnet-isolated', version: '10.0' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: [
        // The Functions host's own storage (keys, leases, the blob trigger's bookkeeping).
        { name: 'AzureWebJobsStorage__blobServiceUri', value: hostStorage.blobServiceUri }
        { name: 'AzureWebJobsStorage__queueServiceUri', value: hostStorage.queueServiceUri }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
        // The pipeline's data: datasets, splits, models, training jobs.
        { name: '${connectionName}__blobServiceUri', value: dataStorage.blobServiceUri }
        { name: '${connectionName}__queueServiceUri', value: dataStorage.queueServiceUri }
        { name: '${connectionName}__credential', value: 'managedidentity' }
        { name: '${connectionName}__clientId', value: identityClientId }
        // DefaultAzureCredential picks the user-assigned identity from this.
        { name: 'AZURE_CLIENT_ID', value: identityClientId }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsightsConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identityClientId};Authorization=AAD' }
        // The Custom Vision Prediction API's key (CustomVisionOptions.PredictionKey), kept in Key Vault.
        { name: 'CustomVision__PredictionKey', value: '@Microsoft.KeyVault(SecretUri=${predictionKeySecretUri})' }
      ]
    }
  }

  // Deployments go through Entra ID (azd uses it); the legacy user/password publishing stays off.
  resource scmCredentials 'basicPublishingCredentialsPolicies' = {
    name: 'scm'
    properties: { allow: false }
  }
  resource ftpCredentials 'basicPublishingCredentialsPolicies' = {
    name: 'ftp'
    properties: { allow: false }
  }
}

// App Service authentication with Microsoft Entra ID, only when an app registration is named. An unauthenticated
// API call gets 401 from the platform; the studio page is excluded so that it can send the browser to sign in. The
// platform then sets WEBSITE_AUTH_ENABLED, on which the app opens its key-level functions to signed-in callers
// (functions/PlatformSignInAccess.cs): a signed-in user needs no function key.
resource auth 'Microsoft.Web/sites/config@2024-11-01' = if (!empty(authClientId)) {
  parent: app
  name: 'authsettingsV2'
  properties: {
    platform: { enabled: true }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      excludedPaths: authExcludedPaths
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          openIdIssuer: '${environment().authentication.loginEndpoint}${authTenantId}/v2.0'
          clientId: authClientId
        }
        validation: {
          // ID tokens (the studio's sign-in) carry the client id; access tokens for the API the Application ID URI.
          allowedAudiences: [authClientId, 'api://${authClientId}']
        }
      }
    }
    login: {
      tokenStore: { enabled: true }
    }
    httpSettings: { requireHttps: true }
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
