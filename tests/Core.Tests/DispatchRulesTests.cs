using Pipeline.Core.Contract;
using Pipeline.Core.Storage;
using Pipeline.Core.Training;

namespace Pipeline.Core.Tests;

/// <summary>The dispatch decision without storage: queue, queue next, up to date, forced, raced.</summary>
public sealed class DispatchRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TrainingOptions Options = new();

    private static DatasetImage Image(Split split, string name) => new(split, "rose", $"flowers/rose/{name}.jpg", 10,
        Now);

    private static readonly DatasetImage[] Three = [Image(Split.Train, "a"), Image(Split.Train, "b"), Image(Split.Test,
        "c")];

    private static DispatchRequest Request(IEnumerable<DatasetImage> images, TrainingOptions? options = null,
        bool force = false)
    {
        var list = images.ToList();
        options ??= Options;
        return new("flowers", options, "http", force, DispatchRules.Fingerprint(list, options),
            list.Count(i => i.Split == Split.Train), list.Count(i => i.Split == Split.Test));
    }

    private static TrainingJob Job(DispatchRequest request, TrainingState state) =>
        DispatchRules.Decide(null, request, Now.AddMinutes(-5)).Write! with { State = state };

    [Fact]
    public void A_dataset_without_a_job_queues_one_for_its_images()
    {
        var decision = DispatchRules.Decide(null, Request(Three), Now);
        Assert.Equal(DispatchResult.Queued, decision.Result);
        var job = Assert.IsType<TrainingJob>(decision.Write);
        Assert.Equal(TrainingState.Queued, job.State);
        Assert.Equal((2, 1), (job.TrainImages, job.TestImages));
        Assert.StartsWith("20261201-120000-", job.JobId);
        Assert.Equal(job.JobId[^6..], job.Fingerprint[..6]);
    }

    [Theory]
    [InlineData(TrainingState.Queued)]
    [InlineData(TrainingState.Running)]
    public void The_same_images_while_a_job_is_active_change_nothing(TrainingState state)
    {
        var decision = DispatchRules.Decide(Job(Request(Three), state), Request(Three), Now);
        Assert.Equal(DispatchResult.AlreadyQueued, decision.Result);
        Assert.Null(decision.Write);
    }

    [Fact]
    public void New_images_while_a_job_runs_are_queued_next()
    {
        var running = Job(Request(Three), TrainingState.Running);
        var more = Request([.. Three, Image(Split.Train, "d")]);
        var decision = DispatchRules.Decide(running, more, Now);
        Assert.Equal(DispatchResult.QueuedNext, decision.Result);
        Assert.Equal(running.JobId, decision.Write!.JobId);
        Assert.Equal(running.Fingerprint, decision.Write.Fingerprint); // what was queued stays as it was
        Assert.Equal(new TrainingRequestRecord(Options, "http", Now), decision.Write.Next);
    }

    [Fact]
    public void A_second_request_with_the_options_already_waiting_changes_nothing()
    {
        var more = Request([.. Three, Image(Split.Train, "d")]);
        var waiting = DispatchRules.Decide(Job(Request(Three), TrainingState.Running), more, Now).Write!;
        var again = DispatchRules.Decide(waiting, Request([.. Three, Image(Split.Train, "d"), Image(Split.Test, "e")]),
            Now);
        Assert.Equal(DispatchResult.AlreadyQueued, again.Result);
        Assert.Null(again.Write);
    }

    [Fact]
    public void Images_the_trainer_found_and_trained_count_as_trained()
    {
        var more = Request([.. Three, Image(Split.Train, "d")]);
        var running = Job(Request(Three), TrainingState.Running) with
        {
            Trained = new TrainedImages(more.Fingerprint, 3,
            1)
        };
        Assert.Equal(DispatchResult.AlreadyQueued, DispatchRules.Decide(running, more, Now).Result);
        var done = running with { State = TrainingState.Succeeded };
        Assert.Equal(DispatchResult.UpToDate, DispatchRules.Decide(done, more, Now).Result);
    }

    [Theory]
    [InlineData(TrainingState.Succeeded, false, DispatchResult.UpToDate)]
    [InlineData(TrainingState.Succeeded, true, DispatchResult.UpToDate)]
    [InlineData(TrainingState.Failed, false, DispatchResult.UpToDate)]
    [InlineData(TrainingState.Failed, true, DispatchResult.Queued)]
    public void Trained_images_train_again_only_when_forced_after_a_failure(TrainingState state, bool force,
        DispatchResult expected)
    {
        var decision = DispatchRules.Decide(Job(Request(Three), state), Request(Three, force: force), Now);
        Assert.Equal(expected, decision.Result);
        Assert.Equal(expected == DispatchResult.Queued, decision.Write is not null);
    }

    [Fact]
    public void Other_options_for_the_same_images_queue_a_new_job()
    {
        var done = Job(Request(Three), TrainingState.Succeeded);
        var decision = DispatchRules.Decide(done, Request(Three, TrainingOptions.Fast), Now);
        Assert.Equal(DispatchResult.Queued, decision.Result);
        Assert.NotEqual(done.Fingerprint, decision.Write!.Fingerprint);
    }

    [Fact]
    public void A_dispatcher_that_lost_the_race_decides_again_on_the_winners_job()
    {
        // Both read no training.json; the winner's conditional write lands, the loser's fails and it reads again.
        var request = Request(Three);
        var winner = DispatchRules.Decide(null, request, Now).Write!;
        var loser = DispatchRules.Decide(winner, request, Now.AddMilliseconds(30));
        Assert.Equal(DispatchResult.AlreadyQueued, loser.Result);
        Assert.Null(loser.Write);
    }

    [Fact]
    public void The_request_that_waited_is_taken_only_after_the_job_ended()
    {
        var waiting = DispatchRules.Decide(Job(Request(Three), TrainingState.Running), Request([.. Three,
            Image(Split.Test, "d")]), Now).Write!;
        Assert.Null(DispatchRules.TakeNext(waiting));
        var taken = DispatchRules.TakeNext(waiting with { State = TrainingState.Succeeded });
        Assert.NotNull(taken);
        Assert.Equal("http", taken.Value.Next.Trigger);
        Assert.Null(taken.Value.Write.Next);
        Assert.Null(DispatchRules.TakeNext(taken.Value.Write));
    }

    [Fact]
    public void A_dataset_settles_after_the_quiet_period_with_two_seconds_for_clock_skew()
    {
        var quiet = TimeSpan.FromSeconds(30);
        Assert.False(DispatchRules.Settled(Now.AddSeconds(-20), Now, quiet));
        Assert.True(DispatchRules.Settled(Now.AddSeconds(-28), Now, quiet));
        Assert.True(DispatchRules.Settled(Now.AddMinutes(-5), Now, quiet));
    }

    [Fact]
    public void The_fingerprint_names_images_and_options_not_their_order()
    {
        var one = DispatchRules.Fingerprint(Three, Options);
        Assert.Equal(one, DispatchRules.Fingerprint(Three.Reverse(), Options));
        Assert.NotEqual(one, DispatchRules.Fingerprint(Three[..2], Options));
        Assert.NotEqual(one, DispatchRules.Fingerprint(Three, Options with { Seed = 7 }));
    }
}
