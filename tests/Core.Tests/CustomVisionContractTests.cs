using System.Net;
using Pipeline.Core.Contract;
using Pipeline.Core.Serving;
using Xunit;

namespace Pipeline.Core.Tests;

/// <summary>Ids a Custom Vision client keeps (project, tag, iteration) and the addresses the url routes
/// refuse.</summary>
public sealed class CustomVisionContractTests
{
    [Fact]
    public void Name_based_ids_are_version_5_and_the_same_for_the_same_name()
    {
        // RFC 9562's example: the DNS namespace and "www.example.com".
        var dns = Guid.Parse("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
        Assert.Equal(Guid.Parse("2ed6657d-e927-568b-95e1-2665a8aea6a2"), NameGuid.Create(dns, "www.example.com"));
        var project = new DatasetProject(Guid.NewGuid());
        Assert.Equal(project.TagId("rose"), project.TagId("rose"));
        Assert.NotEqual(project.TagId("rose"), project.TagId("tulip"));
        Assert.NotEqual(project.TagId("rose"), new DatasetProject(Guid.NewGuid()).TagId("rose"));
        var kept = Guid.NewGuid();
        Assert.Equal(kept, new DatasetProject(project.ProjectId, new Dictionary<string, Guid> { ["rose"] = kept })
            .TagId("rose"));
    }

    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("172.20.0.1", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("168.63.129.16", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fd00::1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    [InlineData("20.50.1.2", true)]
    [InlineData("2606:4700::1111", true)]
    public void Only_public_addresses_are_fetched(string address, bool fetched) =>
        Assert.Equal(fetched, ImageUrlFetch.IsPublic(IPAddress.Parse(address)));
}
