namespace Pipeline.Core.Contract;

/// <summary>Which part of a dataset an accepted image belongs to; each has its own container.</summary>
public enum Split { Train, Test }
