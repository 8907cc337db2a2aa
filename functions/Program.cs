using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.Core.FunctionMetadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using OpenTelemetry.Trace;
using Pipeline.Core;
using Pipeline.Functions;
using Pipeline.Http;

// The function app: thin triggers over the services in core/, configured from app settings (Storage, Pipeline__*).
var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
// Where App Service authentication signs users in, they need no function key (PlatformSignInAccess.cs).
builder.Services.AddSingleton<OpenToSignedInCallers>();
builder.Services.AddSingleton<IFunctionMetadataTransformer>(s => s.GetRequiredService<OpenToSignedInCallers>());
builder.UseMiddleware<SignedInCallerCheck>();
builder.Services.AddPipelineHttp();
builder.Services.AddPipeline(builder.Configuration);
// Traces, metrics and logs to Application Insights (APPLICATIONINSIGHTS_CONNECTION_STRING, the app's identity); the
// worker's defaults put each invocation's span under the host's, so a blob trigger's split continues its trace.
builder.Services.AddPipelineTelemetry(builder.Configuration, "pipeline-functions")
    .WithTracing(t => t.AddAspNetCoreInstrumentation())
    .UseFunctionsWorkerDefaults();
builder.Build().Run();
