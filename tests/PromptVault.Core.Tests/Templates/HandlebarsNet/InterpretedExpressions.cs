using System.Linq.Expressions;
using HandlebarsDotNet;
using HandlebarsDotNet.Features;

namespace PromptVault.Core.Tests.Templates.HandlebarsNet;

/// <summary>
/// Has Handlebars.Net run each template's expression trees through .NET's expression interpreter instead of compiling
/// them to IL. The oracle renders every template once, and compiling the trees was most of what the differential test
/// spent; the interpreter runs the same trees, after the same middlewares, so Handlebars.Net writes the same text.
/// </summary>
internal sealed class InterpretedExpressions : IFeatureFactory, IFeature, IExpressionCompiler
{
    private IReadOnlyList<IExpressionMiddleware> _middlewares = [];

    public IFeature CreateFeature() => this;

    // Features without an order run after Handlebars.Net's own, so this replaces the compiler its default feature set.
    public void OnCompiling(ICompiledHandlebarsConfiguration configuration)
    {
        _middlewares = [.. configuration.ExpressionMiddlewares];
        configuration.ExpressionCompiler = this;
    }

    public void CompilationCompleted()
    {
    }

    public T Compile<T>(Expression<T> expression) where T : class, Delegate
    {
        foreach (var middleware in _middlewares)
            expression = middleware.Invoke(expression);
        return expression.Compile(preferInterpretation: true);
    }
}
