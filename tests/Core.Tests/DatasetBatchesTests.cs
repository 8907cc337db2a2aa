using System.Collections.Concurrent;
using Pipeline.Core.Storage;

namespace Pipeline.Core.Tests;

/// <summary>
/// Callers of one batch share one write: one caller's cancellation stops its own wait, not the others' write.
/// A first call ("held") keeps the dataset's gate while the next callers join the following batch.
/// </summary>
public sealed class DatasetBatchesTests
{
    // Only guards against a hang; no test asserts how long anything took.
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private readonly ConcurrentQueue<string[]> written = new();
    private readonly TaskCompletionSource release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource secondStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource secondGoOn = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private DatasetBatches<string> Batches() => new(async (_, items, ct) =>
    {
        if (items.Contains("held")) await release.Task.WaitAsync(ct);
        else
        {
            secondStarted.TrySetResult();
            await secondGoOn.Task.WaitAsync(ct);
        }
        written.Enqueue([.. items]);
    });

    [Theory]
    [InlineData(0)]
    [InlineData(1)] // which of the two writes is up to the gate: cancelling each in turn cancels the writer once
    public async Task Cancelling_one_caller_of_a_batch_being_written_does_not_fail_the_other(int cancelled)
    {
        var batches = Batches();
        var held = batches.AddAsync("flowers", "held", CancellationToken.None);
        using var a = new CancellationTokenSource();
        using var b = new CancellationTokenSource();
        Task[] callers = [batches.AddAsync("flowers", "a", a.Token), batches.AddAsync("flowers", "b", b.Token)];
        release.SetResult();
        await held.WaitAsync(Guard);
        await secondStarted.Task.WaitAsync(Guard);

        (cancelled == 0 ? a : b).Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => callers[cancelled].WaitAsync(Guard));
        secondGoOn.SetResult();
        await callers[1 - cancelled].WaitAsync(Guard);

        Assert.Equal(["held"], written.First());
        Assert.Equal(["a", "b"], written.Last());
    }

    [Fact]
    public async Task A_caller_cancelled_before_its_batch_is_written_takes_its_item_out()
    {
        var batches = Batches();
        var held = batches.AddAsync("flowers", "held", CancellationToken.None);
        using var a = new CancellationTokenSource();
        var first = batches.AddAsync("flowers", "a", a.Token);
        var second = batches.AddAsync("flowers", "b", CancellationToken.None);

        a.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.WaitAsync(Guard));
        release.SetResult();
        secondGoOn.SetResult();
        await Task.WhenAll(held, second).WaitAsync(Guard);

        Assert.Equal(["b"], written.Last());
    }

    [Fact]
    public async Task The_write_is_cancelled_when_every_caller_of_its_batch_is()
    {
        var batches = Batches();
        var held = batches.AddAsync("flowers", "held", CancellationToken.None);
        using var a = new CancellationTokenSource();
        var first = batches.AddAsync("flowers", "a", a.Token);
        release.SetResult();
        await secondStarted.Task.WaitAsync(Guard);

        a.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.WaitAsync(Guard));
        // The gate opens again once the cancelled write has ended: a later caller is written on its own.
        secondGoOn.SetResult();
        await batches.AddAsync("flowers", "c", CancellationToken.None).WaitAsync(Guard);

        Assert.Equal([["held"], ["c"]], written.ToArray());
    }
}
