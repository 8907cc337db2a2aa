using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Pipeline.Core;
using Pipeline.Http;

// The function app: thin triggers over the services in core/, configured from app settings (Storage, Pipeline__*).
var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services.AddPipelineHttp();
builder.Services.AddPipeline(builder.Configuration);
builder.Build().Run();
