// Holds the trainer image. No admin user and no anonymous pull: the job pulls with its identity (AcrPull).
param name string
param location string
param tags object

resource registry 'Microsoft.ContainerRegistry/registries@2025-04-01' = {
  name: name
  location: location
  tags: tags
  sku: { name: 'Basic' }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
  }
}

output name string = registry.name
output loginServer string = '${registry.name}${environment().suffixes.acrLoginServer}'
