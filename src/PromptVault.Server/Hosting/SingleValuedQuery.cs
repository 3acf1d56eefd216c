using PromptVault.Core;

namespace PromptVault.Server.Hosting;

/// <summary>
/// Every query parameter of the API takes one value. The framework binds a repeated one (<c>?tag=a&amp;tag=b</c>) as the
/// comma-joined text <c>a,b</c>, which filters by a value nobody sent and matches nothing; it is refused instead, naming it.
/// </summary>
internal static class SingleValuedQuery
{
    public static IApplicationBuilder UseSingleValuedQuery(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (context.Request.QueryString.HasValue && context.Request.Path.StartsWithSegments("/api"))
        {
            foreach (var (name, values) in context.Request.Query)
            {
                if (values.Count > 1)
                    throw new InvalidInputException("too_many", $"{name} is given {values.Count} times; each query parameter takes one value.", name);
            }
        }
        return next(context);
    });
}
