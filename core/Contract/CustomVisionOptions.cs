namespace Pipeline.Core.Contract;

/// <summary>
/// Settings of the Custom Vision Prediction API, bound from the <c>CustomVision</c> section. In Azure
/// <c>CustomVision__PredictionKey</c> is an app setting that references a Key Vault secret; the local host takes
/// <c>Local__PredictionKey</c> and may run without one.
/// </summary>
public sealed class CustomVisionOptions
{
    public const string Section = "CustomVision";

    /// <summary>The <c>Prediction-Key</c> header callers must send.</summary>
    public string? PredictionKey { get; set; }

    /// <summary>Without a key, answer every call (the local host); otherwise refuse every call (fail closed).</summary>
    public bool AllowWithoutKey { get; set; }

    /// <summary>Let the url routes fetch from loopback addresses (the local host, so tests can serve images; http is
    /// then accepted for loopback too). Private, link-local and loopback addresses are refused otherwise.</summary>
    public bool AllowLoopbackUrls { get; set; }

    /// <summary>How long fetching an image url may take, whole.</summary>
    public int UrlTimeoutSeconds { get; set; } = 10;
}
