using System.Net.Http.Json;
using System.Text.Json;
using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Pipeline.Core.Contract;
using Pipeline.Core.Storage;
using Pipeline.Core.Training;

namespace Pipeline.Cli;

/// <summary>
/// Where the pipeline is: its storage (the local Azurite by default; <c>--account &lt;name&gt;</c> with Entra ID through
/// DefaultAzureCredential; or <c>--connection-string</c>) and its HTTP API (<c>--api &lt;url&gt;</c>, <c>--key</c> in Azure).
/// </summary>
public sealed class Connection : IDisposable
{
    public const string DefaultApi = "http://127.0.0.1:7071/api";
    public const string AzuriteConnection = "UseDevelopmentStorage=true";

    private readonly string? account;
    private readonly string? connectionString;
    private readonly string? key;
    private readonly Lazy<PipelineStorage> storage;
    private readonly Lazy<HttpClient> http;

    private Connection(string? account, string? connectionString, string api, string? key)
    {
        this.account = account;
        this.connectionString = connectionString;
        this.key = key;
        Api = api.TrimEnd('/');
        storage = new(CreateStorage);
        http = new(() => new HttpClient { BaseAddress = new Uri(Api + "/"), Timeout = TimeSpan.FromMinutes(5) });
    }

    public string Api { get; }

    /// <summary>Reads <c>--account</c>, <c>--connection-string</c>, <c>--api</c> and <c>--key</c> (or PIPELINE_STORAGE, PIPELINE_API, PIPELINE_API_KEY).</summary>
    public static Connection From(Arguments args)
    {
        var account = args.Option("--account");
        var connection = args.Option("--connection-string") ?? Environment.GetEnvironmentVariable("PIPELINE_STORAGE");
        var api = args.Option("--api") ?? Environment.GetEnvironmentVariable("PIPELINE_API") ?? DefaultApi;
        var key = args.Option("--key") ?? Environment.GetEnvironmentVariable("PIPELINE_API_KEY");
        if (account is not null && connection is not null) throw new CliException(ExitCodes.Usage, "Give --account or --connection-string, not both.");
        if (account is not null && !System.Text.RegularExpressions.Regex.IsMatch(account, "^[a-z0-9]{3,24}$"))
            throw new CliException(ExitCodes.Usage, $"'{account}' is not a storage account name (3-24 lower-case letters and digits).");
        if (!Uri.TryCreate(api, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new CliException(ExitCodes.Usage, $"--api takes the API's address, such as {DefaultApi}, not '{api}'.");
        return new Connection(account, connection, api, key);
    }

    /// <summary>How the user would name this storage in an error message.</summary>
    public string StorageName => account is not null ? $"storage account '{account}'"
        : connectionString is not null ? "the storage of the given connection string" : "the local Azurite (127.0.0.1:10000)";

    public string StorageHint => account is not null
        ? "Check the account name, that you are signed in (az login) and that you hold Storage Blob Data Contributor on it."
        : "Start the local pipeline (dotnet run --project local), or pass --account <name> for Azure.";

    public PipelineStorage Storage => storage.Value;

    private PipelineStorage CreateStorage()
    {
        // Few quick retries: an unreachable Azurite should fail in seconds, not a minute; uploads still ride out throttling.
        var blobOptions = new BlobClientOptions();
        var queueOptions = new QueueClientOptions();
        foreach (var retry in new[] { blobOptions.Retry, queueOptions.Retry })
        {
            retry.MaxRetries = 3;
            retry.Delay = TimeSpan.FromMilliseconds(400);
            retry.MaxDelay = TimeSpan.FromSeconds(8);
        }
        if (account is null)
        {
            var cs = connectionString ?? AzuriteConnection;
            return new PipelineStorage(new BlobServiceClient(cs, blobOptions), new QueueServiceClient(cs, queueOptions));
        }
        TokenCredential credential = new DefaultAzureCredential();
        return new PipelineStorage(new BlobServiceClient(new Uri($"https://{account}.blob.core.windows.net"), credential, blobOptions),
            new QueueServiceClient(new Uri($"https://{account}.queue.core.windows.net"), credential, queueOptions));
    }

    /// <summary>Calls the API; a problem answer becomes a <see cref="CliException"/> with its detail and the matching exit code.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct, params int[] expected)
    {
        if (key is not null) request.Headers.Add("x-functions-key", key);
        HttpResponseMessage response;
        try { response = await http.Value.SendAsync(request, ct); }
        catch (HttpRequestException e)
        {
            throw new CliException(ExitCodes.Unreachable, $"Cannot reach the API at {Api}: {e.Message}. Start the local pipeline (dotnet run --project local), or pass --api <url>.");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.Unreachable, $"The API at {Api} did not answer in time.");
        }
        var status = (int)response.StatusCode;
        if (response.IsSuccessStatusCode && (expected.Length == 0 || expected.Contains(status))) return response;
        using (response)
        {
            var problem = await ReadProblemAsync(response, ct);
            throw status switch
            {
                404 => new CliException(ExitCodes.NotFound, problem),
                401 or 403 => new CliException(ExitCodes.Unreachable, $"The API at {Api} refused the request ({status}): {problem} In Azure pass the function key with --key or PIPELINE_API_KEY."),
                _ => new CliException(ExitCodes.Failed, $"The API answered {status}: {problem}"),
            };
        }
    }

    public async Task<JsonElement> GetJsonAsync(string path, CancellationToken ct)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, path), ct);
        return await response.Content.ReadFromJsonAsync<JsonElement>(Json.Options, ct);
    }

    private static async Task<string> ReadProblemAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        try
        {
            var json = JsonDocument.Parse(text).RootElement;
            var title = json.TryGetProperty("title", out var t) ? t.GetString() : null;
            var detail = json.TryGetProperty("detail", out var d) ? d.GetString() : null;
            return string.Join(": ", new[] { title, detail }.Where(s => !string.IsNullOrEmpty(s)));
        }
        catch (JsonException) { return string.IsNullOrWhiteSpace(text) ? response.ReasonPhrase ?? "" : text.Trim(); }
    }

    /// <summary>The promoted version of <paramref name="dataset"/>, or <paramref name="version"/> if given and present.</summary>
    public async Task<string> VersionAsync(string dataset, string? version, CancellationToken ct)
    {
        var versions = new ModelVersions(Storage,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<ModelVersions>.Instance);
        if (version is not null)
        {
            if (!(await versions.ListVersionsAsync(dataset, ct)).Contains(version))
                throw new CliException(ExitCodes.NotFound, $"Dataset '{dataset}' has no model version '{version}'. List them with: pipeline models {dataset}");
            return version;
        }
        var (latest, _) = await versions.ReadLatestAsync(dataset, ct);
        return latest?.Version ?? throw new CliException(ExitCodes.NotFound,
            $"Dataset '{dataset}' has no promoted model yet. Upload images (pipeline upload <folder> --dataset {dataset}) and train (pipeline train {dataset}).");
    }

    public void Dispose()
    {
        if (http.IsValueCreated) http.Value.Dispose();
    }
}
