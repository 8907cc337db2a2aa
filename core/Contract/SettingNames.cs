namespace Pipeline.Core.Contract;

/// <summary>
/// Every setting (environment variable) the pipeline's code reads in Azure. infra/ sets each one on the service
/// that reads it; Infra.Tests fails when a name here is missing from the Bicep. Add a name here when code reads a new
/// one.
/// </summary>
public static class SettingNames
{
    /// <summary>Identity-based connection to the data account (see <see cref="StorageNames.Connection"/>).</summary>
    public const string StorageBlobServiceUri = StorageNames.Connection + "__blobServiceUri";
    public const string StorageQueueServiceUri = StorageNames.Connection + "__queueServiceUri";
    /// <summary><c>managedidentity</c> in Azure.</summary>
    public const string StorageCredential = StorageNames.Connection + "__credential";
    /// <summary>Client id of the user-assigned identity the connection uses.</summary>
    public const string StorageClientId = StorageNames.Connection + "__clientId";

    /// <summary>Which user-assigned identity DefaultAzureCredential (and so the Azure SDK) picks.</summary>
    public const string AzureClientId = "AZURE_CLIENT_ID";

    /// <summary>Where telemetry goes in Azure; written to with <see cref="AzureClientId"/>'s identity (Entra
    /// ID).</summary>
    public const string ApplicationInsightsConnectionString = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>Local only: an OTLP endpoint for traces, metrics and logs.</summary>
    public const string OtlpEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>Local only: <c>console</c> prints every span (off by default: the local host would be noisy); the
    /// OpenTelemetry spec's name, a comma-separated list.</summary>
    public const string TracesExporter = "OTEL_TRACES_EXPORTER";

    /// <summary>The Custom Vision Prediction API's key: in Azure a Key Vault reference.</summary>
    public const string PredictionKey = CustomVisionOptions.Section + "__" + nameof(CustomVisionOptions.PredictionKey);

    /// <summary><c>True</c> while App Service authentication is on: set by the platform (from the authsettingsV2
    /// that infra/ deploys when an app registration is named), never by infra/ itself, so not in <see
    /// cref="Functions"/>.</summary>
    public const string PlatformAuthEnabled = "WEBSITE_AUTH_ENABLED";

    /// <summary>Read by the functions app (Split, Score, dispatch), besides the Functions host's own
    /// AzureWebJobsStorage__*.</summary>
    public static readonly string[] Functions = [StorageBlobServiceUri, StorageQueueServiceUri, StorageCredential,
        StorageClientId, AzureClientId, ApplicationInsightsConnectionString, PredictionKey];

    /// <summary>Read by the trainer container (<c>trainer job</c>).</summary>
    public static readonly string[] Trainer = [StorageBlobServiceUri, StorageQueueServiceUri, StorageCredential,
        StorageClientId, AzureClientId, ApplicationInsightsConnectionString];
}
