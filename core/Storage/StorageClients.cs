using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Pipeline.Core.Contract;

namespace Pipeline.Core.Storage;

/// <summary>
/// Builds the data account's clients from the <c>Storage</c> setting: a connection string locally (Azurite),
/// or the identity-based family in Azure (<c>Storage__blobServiceUri</c>, <c>Storage__queueServiceUri</c>,
/// <c>Storage__credential</c>, <c>Storage__clientId</c>), the same settings the Functions host reads for its triggers.
/// </summary>
public static class StorageClients
{
    // Functions and the WebJobs SDK read queue messages as Base64 by default; every writer must match.
    private static readonly QueueClientOptions QueueOptions = new() { MessageEncoding = QueueMessageEncoding.Base64 };

    public static (BlobServiceClient Blobs, QueueServiceClient Queues) Create(IConfiguration configuration, string name = StorageNames.Connection)
    {
        var connectionString = configuration[name] ?? configuration.GetConnectionString(name);
        if (!string.IsNullOrWhiteSpace(connectionString))
            return (new BlobServiceClient(connectionString), new QueueServiceClient(connectionString, QueueOptions));

        var section = configuration.GetSection(name);
        var blobUri = section["blobServiceUri"];
        var queueUri = section["queueServiceUri"];
        if (string.IsNullOrWhiteSpace(blobUri) || string.IsNullOrWhiteSpace(queueUri))
            throw new InvalidOperationException(
                $"Storage is not configured: set '{name}' to a connection string, or '{name}__blobServiceUri' and '{name}__queueServiceUri' (with '{name}__credential=managedidentity' and '{name}__clientId' in Azure).");
        var credential = Credential(section["credential"], section["clientId"]);
        return (new BlobServiceClient(new Uri(blobUri), credential), new QueueServiceClient(new Uri(queueUri), credential, QueueOptions));
    }

    private static TokenCredential Credential(string? kind, string? clientId) =>
        string.Equals(kind, "managedidentity", StringComparison.OrdinalIgnoreCase)
            ? new ManagedIdentityCredential(string.IsNullOrWhiteSpace(clientId) ? ManagedIdentityId.SystemAssigned : ManagedIdentityId.FromUserAssignedClientId(clientId))
            : new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = string.IsNullOrWhiteSpace(clientId) ? null : clientId });
}
