using Microsoft.AspNetCore.Http.Metadata;
using PromptVault.Core;
using PromptVault.Server.Api;

namespace PromptVault.Server.Hosting;

/// <summary>
/// Every query parameter of the API takes one value. The framework binds a repeated one (<c>?tag=a&amp;tag=b</c>) as the
/// comma-joined text <c>a,b</c>, which filters by a value nobody sent and matches nothing; it is refused instead, naming it.
/// An integer one (<c>limit</c>, <c>offset</c>) is a whole number written in digits, as a body's integer is: the framework's
/// parsing also took <c>+1</c>, <c>%201</c> and <c>1%00</c> (trailing NULs), so one page had several spellings, some holding
/// text the API refuses everywhere else.
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
            foreach (var parameter in context.GetEndpoint()?.Metadata.GetOrderedMetadata<IParameterBindingMetadata>() ?? [])
            {
                if (IsInteger(parameter.ParameterInfo.ParameterType) && context.Request.Query.TryGetValue(parameter.Name, out var value)
                    && value.ToString() is { Length: > 0 } text && !IsWrittenInDigits(text))
                    throw ProblemExceptionHandler.WrongParameterType(parameter.Name, parameter.ParameterInfo.ParameterType, text);
            }
        }
        return next(context);
    });

    private static bool IsInteger(Type type) => (Nullable.GetUnderlyingType(type) ?? type) is var t && (t == typeof(int) || t == typeof(long));

    /// <summary>Digits, after at most a minus sign (a negative one is then out of range, named as such).</summary>
    private static bool IsWrittenInDigits(string text)
    {
        var digits = text.StartsWith('-') ? text.AsSpan(1) : text.AsSpan();
        return digits.Length > 0 && !digits.ContainsAnyExceptInRange('0', '9');
    }
}
