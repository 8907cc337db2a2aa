// The trainer: an event-driven Container Apps Job on a serverless GPU profile. KEDA's azure-queue rule
// watches the training queue with the job's identity and starts one execution per queued TrainingJob.
param environmentName string
param jobName string
param location string
param tags object
param workspaceId string
@allowed(['Consumption-GPU-NC8as-T4', 'Consumption-GPU-NC24-A100'])
param gpuProfile string
param identityId string
param identityClientId string
param registryLoginServer string
param dataStorage { name: string, blobServiceUri: string, queueServiceUri: string }
@description('The contract\'s connection name (StorageNames.Connection).')
param connectionName string
param trainingQueue string
param applicationInsightsConnectionString string
@description('True once azd has deployed the trainer: keep its image instead of the placeholder.')
param trainerExists bool
@description('Longest a training run may take before Container Apps stops it.')
param replicaTimeoutSeconds int = 14400
param maxConcurrentTrainings int = 1

// A serverless GPU replica may use the whole card's share of the host: T4 8 vCPU/56 GiB, A100 24 vCPU/220 GiB.
var gpuSizes = {
  'Consumption-GPU-NC8as-T4': { profileName: 'gpu-t4', cpu: 8, memory: '56Gi' }
  'Consumption-GPU-NC24-A100': { profileName: 'gpu-a100', cpu: 24, memory: '220Gi' }
}
var gpu = gpuSizes[gpuProfile]
// Shown until the first `azd deploy` pushes the trainer; never started unless a job is queued before then.
var placeholderImage = 'mcr.microsoft.com/k8se/quickstart-jobs:latest'

resource environment 'Microsoft.App/managedEnvironments@2025-01-01' = {
  name: environmentName
  location: location
  tags: tags
  properties: {
    // Logs go through Azure Monitor diagnostic settings: no workspace key in the environment.
    appLogsConfiguration: { destination: 'azure-monitor' }
    workloadProfiles: [
      { name: 'Consumption', workloadProfileType: 'Consumption' }
      { name: gpu.profileName, workloadProfileType: gpuProfile }
    ]
  }
}

resource environmentLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: environment
  properties: {
    workspaceId: workspaceId
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
  }
}

resource existingJob 'Microsoft.App/jobs@2025-01-01' existing = if (trainerExists) {
  name: jobName
}

resource job 'Microsoft.App/jobs@2025-01-01' = {
  name: jobName
  location: location
  tags: union(tags, { 'azd-service-name': 'trainer' })
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: gpu.profileName
    configuration: {
      triggerType: 'Event'
      replicaTimeout: replicaTimeoutSeconds
      // One retry for a crashed replica; a TrainingJob that keeps failing is the trainer's to move to the poison queue.
      replicaRetryLimit: 1
      registries: [{ server: registryLoginServer, identity: identityId }]
      eventTriggerConfig: {
        parallelism: 1
        replicaCompletionCount: 1
        scale: {
          minExecutions: 0
          maxExecutions: maxConcurrentTrainings
          pollingInterval: 30
          rules: [
            {
              name: 'training-queue'
              type: 'azure-queue'
              metadata: {
                accountName: dataStorage.name
                queueName: trainingQueue
                queueLength: '1'
              }
              identity: identityId
            }
          ]
        }
      }
    }
    template: {
      containers: [
        {
          name: 'trainer'
          image: trainerExists ? existingJob!.properties.template.containers[0].image : placeholderImage
          resources: { cpu: gpu.cpu, memory: gpu.memory }
          env: [
            { name: '${connectionName}__blobServiceUri', value: dataStorage.blobServiceUri }
            { name: '${connectionName}__queueServiceUri', value: dataStorage.queueServiceUri }
            { name: '${connectionName}__credential', value: 'managedidentity' }
            { name: '${connectionName}__clientId', value: identityClientId }
            { name: 'AZURE_CLIENT_ID', value: identityClientId }
            { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsightsConnectionString }
            {
              name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
              value: 'ClientId=${identityClientId};Authorization=AAD'
            }
          ]
        }
      ]
    }
  }
}

output environmentName string = environment.name
output jobName string = job.name
output gpuProfileName string = gpu.profileName
