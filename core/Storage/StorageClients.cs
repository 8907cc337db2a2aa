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
    /// <param name="retry">Changes the clients' retries (the command line gives up sooner than the services
    /// do).</param>
    public static (BlobServiceClient Blobs, QueueServiceClient Queues) Create(IConfiguration configuration,
        string name = StorageNames.Connection, Action<RetryOptions>? retry = null)
    {
        var connectionString = configuration[name] ?? configuration.GetConnectionString(name);
        if (!string.IsNullOrWhiteSpace(connectionString)) return FromConnectionString(connectionString, retry);

        var section = configuration.GetSection(name);
        var blobUri = section["blobServiceUri"];
        var queueUri = section["queueServiceUri"];
        if (string.IsNullOrWhiteSpace(blobUri) || string.IsNullOrWhiteSpace(queueUri))
            throw new InvalidOperationException(
                $"Storage is not configured: set '{name}' to a connection string, or '{name}__blobServiceUri' and " +
                $"'{name}__queueServiceUri' (with '{name}__credential=managedidentity' and '{name}__clientId' in " +
                    $"Azure).");
        return FromEndpoints(new Uri(blobUri), new Uri(queueUri), Credential(section["credential"],
            section["clientId"]), retry);
    }

    public static (BlobServiceClient Blobs, QueueServiceClient Queues) FromConnectionString(string connectionString,
        Action<RetryOptions>? retry = null)
    {
        var (blobOptions, queueOptions) = Options(retry);
        return (new BlobServiceClient(connectionString, blobOptions), new QueueServiceClient(connectionString,
            queueOptions));
    }

    /// <summary>The account's endpoints with Entra ID; <paramref name="credential"/> defaults to
    /// DefaultAzureCredential.</summary>
    public static (BlobServiceClient Blobs, QueueServiceClient Queues) FromEndpoints(Uri blobUri, Uri queueUri,
        TokenCredential? credential = null, Action<RetryOptions>? retry = null)
    {
        var (blobOptions, queueOptions) = Options(retry);
        credential ??= new DefaultAzureCredential();
        return (new BlobServiceClient(blobUri, credential, blobOptions), new QueueServiceClient(queueUri, credential,
            queueOptions));
    }

    private static (BlobClientOptions, QueueClientOptions) Options(Action<RetryOptions>? retry)
    {
        var blobOptions = new BlobClientOptions();
        // Functions and the WebJobs SDK read queue messages as Base64 by default; every writer must match.
        var queueOptions = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        retry?.Invoke(blobOptions.Retry);
        retry?.Invoke(queueOptions.Retry);
        return (blobOptions, queueOptions);
    }

    private static TokenCredential Credential(string? kind, string? clientId) =>
        string.Equals(kind, "managedidentity", StringComparison.OrdinalIgnoreCase)
            ? new ManagedIdentityCredential(string.IsNullOrWhiteSpace(clientId)
                ? ManagedIdentityId.SystemAssigned
                : ManagedIdentityId.FromUserAssignedClientId(clientId))
            : new DefaultAzureCredential(new DefaultAzureCredentialOptions
            {
                ManagedIdentityClientId = string.IsNullOrWhiteSpace(clientId) ? null : clientId,
            });
}
