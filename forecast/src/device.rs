//! Device choice: the CPU unless the `cuda` feature is built and a GPU is visible.

pub use candle_core::Device;

/// CUDA device 0 when the crate is built with `--features cuda` and a GPU is visible,
/// otherwise the CPU.
pub fn best_device() -> Device {
    // Without the feature, candle answers the CPU here.
    Device::cuda_if_available(0).unwrap_or(Device::Cpu)
}

/// `"cpu"`, `"cuda"` or `"metal"`, as reported in training results.
pub fn device_name(device: &Device) -> &'static str {
    if device.is_cuda() {
        "cuda"
    } else if device.is_metal() {
        "metal"
    } else {
        "cpu"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_is_called_cpu() {
        assert_eq!(device_name(&Device::Cpu), "cpu");
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn without_the_cuda_feature_the_best_device_is_the_cpu() {
        assert!(best_device().is_cpu());
    }
}
