using System.Text.Json.Nodes;
using Pipeline.Core.Contract;

namespace Pipeline.Core.Serving;

/// <summary>
/// Who may call the API when App Service authentication (Microsoft Entra ID) signs users in, instead of a function
/// key. The Functions host asks for a key on every function of level Function, even behind that sign-in, so where the
/// platform's sign-in is on, the function app declares those functions Anonymous to the host (<see
/// cref="OpenToSignedIn"/>) and lets a request through only when the platform vouches for a caller (<see
/// cref="Check"/>). Where it is off, nothing changes: the host demands the key.
/// </summary>
/// <remarks>
/// The platform removes X-MS-CLIENT-PRINCIPAL* headers a client sends and sets them itself only while its
/// authentication is on; while it is off such a header is the caller's word, so it never counts then.
/// </remarks>
public static class PlatformSignIn
{
    /// <summary>The signed-in caller's claims (base64 JSON), set by the platform.</summary>
    public const string PrincipalHeader = "X-MS-CLIENT-PRINCIPAL";
    public const string PrincipalNameHeader = "X-MS-CLIENT-PRINCIPAL-NAME";
    /// <summary>Where the studio sends a browser to sign in (App Service authentication's own route).</summary>
    public const string LoginPath = "/.auth/login/aad";

    /// <summary>Whether the platform's authentication is on, from the value of <see
    /// cref="SettingNames.PlatformAuthEnabled"/> (which the platform sets to <c>True</c>).</summary>
    public static bool IsOn(string? enabledSetting) =>
        bool.TryParse(enabledSetting?.Trim(), out var on) && on;

    /// <summary>
    /// One binding of a function's metadata (JSON) made Anonymous when it is an HTTP trigger of level Function, or
    /// null when it stays as it is (other bindings, Anonymous and Admin triggers).
    /// </summary>
    public static string? OpenToSignedIn(string binding)
    {
        if (JsonNode.Parse(binding) is not JsonObject json) return null;
        var type = json["type"]?.GetValue<string>();
        var level = json["authLevel"]?.GetValue<string>();
        if (!string.Equals(type, "httpTrigger", StringComparison.OrdinalIgnoreCase) ||
            !string.Equals(level, "Function", StringComparison.OrdinalIgnoreCase)) return null;
        json["authLevel"] = "Anonymous";
        return json.ToJsonString();
    }

    /// <summary>
    /// Null when a request to a function opened by <see cref="OpenToSignedIn"/> may go on: the platform's
    /// authentication is on and it named a caller. Otherwise a 401 problem that says how to sign in.
    /// </summary>
    public static ApiProblem? Check(bool platformAuthOn, string? principal)
    {
        if (!platformAuthOn)
            return ApiResult.Fail(401, "Function key needed",
                "App Service authentication is off here, so a request needs the function key (x-functions-key " +
                "header or code query parameter): az functionapp keys list.");
        if (string.IsNullOrWhiteSpace(principal))
            return ApiResult.Fail(401, "Sign-in needed",
                $"This app signs users in with Microsoft Entra ID: open the studio (it sends you to {LoginPath}), " +
                "or send a bearer token for the app registration (README: Signing in with Microsoft Entra ID).");
        return null;
    }
}
