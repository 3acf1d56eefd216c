using System.Globalization;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;
using PromptVault.Core.Storage;

namespace PromptVault.Server.Api;

/// <summary>The <c>next</c> link of a paged list: the same request with the offset moved past this page.</summary>
internal static class Paging
{
    public static string? Next(HttpRequest request, PageRequest page, int count, int total)
    {
        if (count == 0 || page.Offset + count >= total) return null;
        var query = request.Query.Where(p => p.Key is not ("limit" or "offset")).ToList();
        query.Add(new("limit", page.Limit.ToString(CultureInfo.InvariantCulture)));
        query.Add(new("offset", (page.Offset + count).ToString(CultureInfo.InvariantCulture)));
        return QueryHelpers.AddQueryString((request.PathBase + request.Path).ToUriComponent(), query);
    }
}
