using Pipeline.Local;

// dotnet run --project local: the whole pipeline on this machine, on Azurite.
using var stopping = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stopping.Cancel(); };
var root = RepoRoot.Find();
var local = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args).Build().GetSection("Local");
await using var azurite = await Azurite.EnsureRunningAsync(root, local["AzuriteData"] ?? Path.Combine(root, ".azurite",
    "data"), Console.WriteLine,
    stopping.Token, local.GetValue("AzuriteBlobPort", Azurite.DefaultBlobPort));
var app = LocalHost.Build(args, azurite.ConnectionString);
await LocalHost.StartAsync(app, stopping.Token);

var api = $"http://127.0.0.1:{app.Configuration.GetValue("Local:Port", 7071)}/api";
Console.WriteLine(
    "\n"
    + "The pipeline runs on this machine.\n"
    + $"  Studio:     http://127.0.0.1:{app.Configuration.GetValue("Local:Port", 7071)}/\n"
    + "  Drop images into the blob container 'uploads' as <dataset>/<label>/<file> "
    + "(or <dataset>/train|val/<label>/<file>), e.g.\n"
    + $"    az storage blob upload-batch --connection-string \"{azurite.ConnectionString}\" -d uploads "
    + "--destination-path flowers -s ./my-flowers\n"
    + "  or with Azure Storage Explorer (Local emulator, default ports). A dataset trains "
    + $"{app.Configuration.GetValue("Pipeline:QuietPeriodSeconds", 30)} s after its last new image, or now:\n"
    + $"    curl -X POST {api}/datasets/flowers/train\n"
    + $"  Watch it:   curl {api}/datasets/flowers\n"
    + "  Score:      curl -X POST --data-binary @rose.jpg -H \"Content-Type: image/jpeg\" "
    + $"\"{api}/score/flowers?top=3\"\n"
    + $"Ctrl+C stops it{(azurite.StartedHere ? " (and the Azurite it started)" : "")}.\n");
// Ctrl+C or SIGTERM: the API, triggers and sweep stop, then the trainer hands its job back, and Azurite stops last.
await app.WaitForShutdownAsync(stopping.Token);
await app.DisposeAsync();
if (azurite.StartedHere) Console.WriteLine("Stopping Azurite.");
