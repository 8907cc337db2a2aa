using System.Security.Cryptography;
using System.Text;

namespace Pipeline.Core.Contract;

/// <summary>Where each control and state blob of a dataset lives (containers in <see cref="StorageNames"/>).</summary>
public static class BlobPaths
{
    /// <summary>In uploads: the dataset's training options, which also ask for a run.</summary>
    public static string TrainControl(string dataset) => $"{dataset}/{StorageNames.TrainControlFile}";

    /// <summary>In uploads: the dataset's settings.</summary>
    public static string DatasetSettings(string dataset) => $"{dataset}/{StorageNames.DatasetSettingsFile}";

    /// <summary>In uploads: the labels of the images beside it.</summary>
    public static string Labels(string dataset) => $"{dataset}/{StorageNames.LabelsFile}";

    /// <summary>In models: the dataset's current or last training job.</summary>
    public static string TrainingState(string dataset) => $"{dataset}/{StorageNames.TrainingStateFile}";

    /// <summary>In models: the dataset's upload activity and pending settle check (<see cref="DatasetActivity"/>).
    /// </summary>
    public static string Activity(string dataset) => $"{dataset}/{StorageNames.ActivityFile}";

    /// <summary>In models: the promoted version.</summary>
    public static string Latest(string dataset) => $"{dataset}/{StorageNames.LatestFile}";

    /// <summary>In models: the names published versions go by.</summary>
    public static string Published(string dataset) => $"{dataset}/{StorageNames.PublishedFile}";

    /// <summary>In models: the dataset's Custom Vision project id.</summary>
    public static string Project(string dataset) => $"{dataset}/{StorageNames.ProjectFile}";

    /// <summary>Uploads whose dataset name is invalid have no dataset folder to go to.</summary>
    public const string NoDataset = "_invalid";

    /// <summary>
    /// In rejected: one record per upload path, named by a hash of the path so that any name (however odd) maps to
    /// one safe blob and a redelivered event overwrites the same record.
    /// </summary>
    public static string Rejection(string? dataset, string uploadPath)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(uploadPath)));
        return $"{dataset ?? NoDataset}/{hash[..32]}.json";
    }
}
