using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Core.Contract;
using Pipeline.Core.Datasets;
using Pipeline.Core.Serving;
using Pipeline.Core.Storage;
using Pipeline.Core.Training;

namespace Pipeline.Core;

/// <summary>The composition root of core: the one place that knows every layer (docs/architecture.md).</summary>
public static class PipelineServices
{
    /// <summary>
    /// Everything the function app, the local host and the trainer job share, configured from the <c>Storage</c>
    /// and <c>Pipeline</c> settings.
    /// </summary>
    public static IServiceCollection AddPipeline(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PipelineOptions>().Bind(configuration.GetSection(PipelineOptions.Section));
        services.AddOptions<CustomVisionOptions>().Bind(configuration.GetSection(CustomVisionOptions.Section));
        services.AddSingleton<StorageHealth>();
        services.AddSingleton(_ =>
        {
            var (blobs, queues) = StorageClients.Create(configuration);
            return new PipelineStorage(blobs, queues);
        });
        services.AddSingleton<DatasetImageStore>();
        services.AddSingleton<RejectionStore>();
        services.AddSingleton<TrainingJobStore>();
        services.AddSingleton<ModelStore>();
        services.AddSingleton<PublishedNameStore>();
        services.AddSingleton<ProjectStore>();
        services.AddSingleton<PredictionStore>();
        services.AddSingleton<ModelRetention>();
        services.AddSingleton<JobAttempts>();
        services.AddSingleton<DatasetActivityStore>();
        services.AddSingleton<SettleSchedule>();
        services.AddSingleton<TrainingDispatch>();
        services.AddSingleton<IUploadEvents>(sp => sp.GetRequiredService<TrainingDispatch>());
        services.AddSingleton<UploadSorter>();
        services.AddSingleton<DatasetStatusReader>();
        services.AddSingleton<ModelCache>();
        services.AddSingleton<ScoreService>();
        services.AddSingleton<DatasetApi>();
        services.AddSingleton<PublishApi>();
        services.AddSingleton<ImageUrlFetch>();
        services.AddSingleton<CustomVisionApi>();
        services.AddSingleton<PredictionApi>();
        services.AddSingleton<DatasetImagesApi>();
        return services;
    }
}
