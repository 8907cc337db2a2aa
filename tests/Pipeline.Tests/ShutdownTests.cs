using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Pipeline.Core.Contract;
using Pipeline.Core.Serving;
using Pipeline.Core.Storage;
using Pipeline.Core.Training;
using Pipeline.Local;
using Xunit;
using Xunit.Abstractions;

namespace Pipeline.Tests;

/// <summary>
/// The local host as a process of its own: its trainer child killed for real, then the host stopped with SIGTERM.
/// </summary>
public sealed partial class ShutdownTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task A_killed_trainer_is_retried_at_once_and_SIGTERM_stops_the_host_in_order()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "Sends SIGKILL and SIGTERM to real processes, which needs Linux.");
        const string dataset = "stop";
        await using var host = await LocalHostProcess.StartAsync(new Dictionary<string, string>
        {
            ["Pipeline__QuietPeriodSeconds"] = "0",
            // Far longer than this test waits: a retry it sees can only come from the host's immediate release.
            ["Pipeline__JobVisibilitySeconds"] = "600",
        });
        try
        {
            foreach (var (label, file, content) in GeneratedImages.Dataset(labels: 2, perLabel: 8, seed: 51))
                await host.Storage.Uploads.GetBlobClient($"{dataset}/{label}/{file}")
                    .UploadAsync(new BinaryData(content));
            await host.WaitForAsync(dataset, s => s.TrainImages + s.TestImages == 16, "the split", 120);
            // Fine-tuning with many augmented views: their feature pass lasts long enough to be interrupted twice.
            var options = new TrainingOptions { FineTune = "always", FineTuneEpochs = 1, AugmentedViews = 24 };
            using (var train = await host.Http.PostAsync($"datasets/{dataset}/train", JsonContent.Create(options,
                options: Json.Options)))
                Assert.Equal(System.Net.HttpStatusCode.Accepted, train.StatusCode);

            // 1. A real kill of the real trainer child in the middle of its run.
            await host.WaitForAsync(dataset, s => s.Training is { State: TrainingState.Running, Progress: not null },
                "the first attempt to run", 300);
            var first = TrainerPids(host).Last();
            Assert.Equal(0, Kill(first, 9));

            var retried = await host.WaitForAsync(dataset, s => s.Training is { FailedAttempts.Count: 1 },
                "the failed attempt to be recorded", 60);
            var failure = retried.Training!.FailedAttempts[0];
            Assert.Equal(1, failure.Attempt);
            Assert.Contains("signal 9", failure.Reason);
            Assert.Contains($"'{dataset}'", failure.Reason);
            // Past the first batch of features: the trainer can stop at the next one (loading the backbone cannot be
            // cut short).
            var running = await host.WaitForAsync(dataset, s => s.Training is
            {
                State: TrainingState.Running,
                Attempts: 2, Progress: { Stage: "features", Epoch: > 0 }
            },
                "the second attempt to run (only the host's release makes it visible in time)", 240);
            Assert.Equal("running (attempt 2)", running.Training!.Status);
            var second = TrainerPids(host).Last();
            Assert.NotEqual(first, second);

            // 2. SIGTERM to the host, as a service manager sends it.
            var linesBefore = host.Lines.Count;
            var clock = Stopwatch.StartNew();
            Assert.Equal(0, Kill(host.Process.Id, 15));
            Assert.True(host.Process.WaitForExit(TimeSpan.FromSeconds(15)),
                $"the host still runs 15 s after SIGTERM:\n{host.Output}");
            output.WriteLine($"The host exited {clock.Elapsed.TotalSeconds:0.0} s after SIGTERM");
            host.Process.WaitForExit(); // and its last lines are read
            Assert.Equal(0, host.Process.ExitCode);
            var after = host.Lines.Skip(linesBefore).ToList();
            Assert.DoesNotContain(after, l => l.Contains("Started the trainer job loop"));
            Assert.Contains(after, l => l.Contains("handed back"));
            Assert.False(Alive(second), "the trainer child outlived the host");
            Assert.False(await Azurite.AnswersAsync(host.BlobPort, CancellationToken.None),
                "Azurite outlived the host");
            // The trainer handed its job back before Azurite stopped: the order held.
            var stoppedTrainer = after.FindIndex(l => l.Contains("The trainer stopped with code 0"));
            var stoppingAzurite = after.FindIndex(l => l.Contains("Stopping Azurite"));
            Assert.True(stoppedTrainer >= 0 && stoppingAzurite > stoppedTrainer, string.Join('\n', after));

            // 3. In storage (Azurite started again on the same data): queued, the stopped attempt not counted, the
            // message visible.
            await using var azurite = await Azurite.StartAsync(RepoRoot.Find(), host.DataFolder, host.BlobPort,
                host.BlobPort + 1, host.BlobPort + 2,
                output.WriteLine, CancellationToken.None);
            var job = await new TrainingJobStore(host.Storage).ReadAsync(dataset, CancellationToken.None);
            Assert.Equal(TrainingState.Queued, job!.State);
            Assert.Equal(1, job.Attempts);
            Assert.Equal(1, job.HandBacks);
            Assert.Equal("queued (retrying after a crash)", job.Status);
            Assert.NotNull((await host.Storage.TrainingQueue.PeekMessageAsync()).Value);
        }
        finally { output.WriteLine(host.Output); }
    }

    private static List<int> TrainerPids(LocalHostProcess host) =>
        host.Lines.Select(l => TrainerStarted().Match(l)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value)).ToList();

    [GeneratedRegex(@"Started the trainer job loop \(pid (\d+)\)")]
    private static partial Regex TrainerStarted();

    private static bool Alive(int pid)
    {
        try { return !Process.GetProcessById(pid).HasExited; }
        catch (ArgumentException) { return false; }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
