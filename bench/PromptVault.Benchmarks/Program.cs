using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

// The machine is shared: building the benchmark's process can outlast BenchmarkDotNet's default two minutes.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, ManualConfig.Create(DefaultConfig.Instance).WithBuildTimeout(TimeSpan.FromMinutes(10)));
