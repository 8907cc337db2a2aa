using System.Collections.Concurrent;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Core.FunctionMetadata;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Contract;
using Pipeline.Core.Serving;
using Pipeline.Http;

namespace Pipeline.Functions;

/// <summary>
/// Signed-in users need no function key: where App Service authentication is on, the key-level functions are
/// declared Anonymous to the host (the worker's metadata, before the host reads it), and
/// <see cref="SignedInCallerCheck"/> lets through only requests the platform signed in. Where it is off, this changes
/// nothing and the host asks for the key. The rules are in <see cref="PlatformSignIn"/>.
/// </summary>
public sealed class OpenToSignedInCallers(IConfiguration configuration, ILogger<OpenToSignedInCallers> logger)
    : IFunctionMetadataTransformer
{
    /// <summary>Names of the functions opened, which the check guards.</summary>
    public ConcurrentDictionary<string, bool> Opened { get; } = new(StringComparer.Ordinal);

    public string Name => nameof(OpenToSignedInCallers);

    public void Transform(IList<IFunctionMetadata> original)
    {
        if (!PlatformSignIn.IsOn(configuration[SettingNames.PlatformAuthEnabled])) return;
        foreach (var function in original)
        {
            if (function.RawBindings is not { } bindings || function.Name is null) continue;
            for (var i = 0; i < bindings.Count; i++)
            {
                if (PlatformSignIn.OpenToSignedIn(bindings[i]) is not { } opened) continue;
                bindings[i] = opened;
                Opened[function.Name] = true;
            }
        }
        logger.LogInformation("App Service authentication is on: {FunctionCount} functions take signed-in callers " +
            "instead of a function key", Opened.Count);
    }
}

/// <summary>Refuses a request to an opened function that the platform did not sign in (401 problem).</summary>
public sealed class SignedInCallerCheck(OpenToSignedInCallers opened, IConfiguration configuration)
    : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        if (opened.Opened.ContainsKey(context.FunctionDefinition.Name))
        {
            // Only HTTP triggers are opened, and ASP.NET Core integration gives each its HttpContext: without one,
            // refuse rather than let an opened function run unchecked.
            var http = context.GetHttpContext() ?? throw new InvalidOperationException(
                $"No HttpContext for the opened function {context.FunctionDefinition.Name}.");
            var platformOn = PlatformSignIn.IsOn(configuration[SettingNames.PlatformAuthEnabled]);
            var principal = http.Request.Headers[PlatformSignIn.PrincipalHeader].FirstOrDefault();
            if (PlatformSignIn.Check(platformOn, principal) is { } refused)
            {
                await PipelineApi.Problem(refused).ExecuteAsync(http);
                return;
            }
        }
        await next(context);
    }
}
