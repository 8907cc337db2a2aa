// Logs and telemetry that accept Entra ID only: no instrumentation key or workspace key can write to them.
param logAnalyticsName string
param applicationInsightsName string
param location string
param tags object

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
    features: { disableLocalAuth: true }
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
  }
}

output workspaceId string = workspace.id
output applicationInsightsName string = applicationInsights.name
// Not a secret: with local auth disabled, the key in it only names the resource; writing needs an Entra token.
output applicationInsightsConnectionString string = applicationInsights.properties.ConnectionString
