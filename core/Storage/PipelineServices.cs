using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Core.Datasets;
using Pipeline.Core.Serving;
using Pipeline.Core.Training;

namespace Pipeline.Core.Storage;

public static class PipelineServices
{
    /// <summary>Everything the function app, the local host and the trainer job share, configured from the <c>Storage</c> and <c>Pipeline</c> settings.</summary>
    public static IServiceCollection AddPipeline(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PipelineOptions>().Bind(configuration.GetSection(PipelineOptions.Section));
        services.AddSingleton<StorageHealth>();
        services.AddSingleton(_ =>
        {
            var (blobs, queues) = StorageClients.Create(configuration);
            return new PipelineStorage(blobs, queues);
        });
        services.AddSingleton<DatasetImages>();
        services.AddSingleton<Rejections>();
        services.AddSingleton<TrainingJobs>();
        services.AddSingleton<JobAttempts>();
        services.AddSingleton<ModelVersions>();
        services.AddSingleton<TrainingDispatch>();
        services.AddSingleton<Splitter>();
        services.AddSingleton<DatasetStatusReader>();
        services.AddSingleton<ModelCache>();
        services.AddSingleton<ScoreService>();
        services.AddSingleton<DatasetApi>();
        return services;
    }
}
