//! What bounds a training step on this CPU: candle's matmul throughput on the step's own
//! shapes, and the step time that throughput allows (the EURUSD step is ~16.1 GFLOP).
//!
//! cargo run --release -p forecast --example gemm_ceiling   (RAYON_NUM_THREADS=1 for one core)

use std::time::Instant;

use candle_core::{Device, Tensor};

fn time_it(f: impl Fn() -> candle_core::Result<Tensor>) -> candle_core::Result<f64> {
    f()?;
    let reps = 40;
    let t = Instant::now();
    for _ in 0..reps {
        f()?;
    }
    Ok(t.elapsed().as_secs_f64() / reps as f64)
}

fn main() -> candle_core::Result<()> {
    let dev = Device::Cpu;
    let (b, u) = (1024, 512);
    let x = Tensor::randn(0f32, 1.0, (b, u), &dev)?;
    let w = Tensor::randn(0f32, 1.0, (u, u), &dev)?;
    let g = Tensor::randn(0f32, 1.0, (b, u), &dev)?;
    let flops = 2.0 * (b * u * u) as f64;
    println!("| op (1024x512, 512x512) | ms | GFLOP/s |");
    println!("| --- | --- | --- |");
    let mut rates = Vec::new();
    for (name, secs) in [
        ("forward x @ W^T", time_it(|| x.matmul(&w.t()?))?),
        ("input grad g @ W", time_it(|| g.matmul(&w))?),
        ("weight grad g^T @ x", time_it(|| g.t()?.matmul(&x))?),
    ] {
        rates.push(flops / secs / 1e9);
        println!("| {name} | {:.3} | {:.0} |", secs * 1e3, flops / secs / 1e9);
    }
    let elementwise = time_it(|| x.broadcast_add(&w.get(0)?)?.relu())?;
    println!("| bias add + ReLU (memory bound) | {:.3} | - |", elementwise * 1e3);
    let rate = rates.iter().sum::<f64>() / rates.len() as f64;
    println!();
    println!(
        "EURUSD step: 16.1 GFLOP of matmul -> at least {:.3} s/step at {rate:.0} GFLOP/s",
        16.1 / rate
    );
    Ok(())
}
