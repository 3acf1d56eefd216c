namespace PromptVault.Server.Api;

/// <summary>
/// A query parameter read as text and parsed by hand, so that its refusal is worded as the API's others are, but which
/// takes only an enum's wire names (<see cref="Core.Names"/>): the OpenAPI document lists them, as it does for a body's enum.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter)]
internal sealed class NamesOfAttribute(Type enumType) : Attribute
{
    public Type EnumType { get; } = enumType;
}

/// <summary>A query parameter read as text and parsed by hand that takes an ISO 8601 date and time: the document says so.</summary>
[AttributeUsage(AttributeTargets.Parameter)]
internal sealed class DateTimeTextAttribute : Attribute;
