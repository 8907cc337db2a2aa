using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Pipeline.Local;
using Xunit;

namespace Pipeline.Tests;

/// <summary>The local host gives memory back after a burst of scoring: once a burst, when it has gone quiet.</summary>
public sealed class IdleMemoryTrimTests
{
    [Fact]
    public async Task Memory_is_trimmed_after_each_burst_of_scoring()
    {
        var log = new Messages();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(
            new Dictionary<string, string?> { ["Local:TrimIdleSeconds"] = "1" }).Build();
        using var trim = new IdleMemoryTrim(configuration, log);
        await trim.StartAsync(CancellationToken.None);
        trim.Scored();
        await log.WaitForAsync(1);
        trim.Scored();
        trim.Scored();
        await log.WaitForAsync(2);
        await trim.StopAsync(CancellationToken.None);
        Assert.All(log.Snapshot(), m => Assert.StartsWith("Scoring went quiet: memory trimmed from ", m));
    }

    private sealed class Messages : ILogger<IdleMemoryTrim>
    {
        private readonly List<string> messages = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter)
        {
            lock (messages) messages.Add(formatter(state, exception));
        }

        public string[] Snapshot()
        {
            lock (messages) return [.. messages];
        }

        public async Task WaitForAsync(int count)
        {
            for (var waited = 0; Snapshot().Length < count; waited++)
            {
                if (waited > 600) throw new TimeoutException($"Trimmed {Snapshot().Length} times, not {count}.");
                await Task.Delay(100);
            }
        }
    }
}
