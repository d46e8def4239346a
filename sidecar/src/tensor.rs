//! Dense tensors as the sidecar passes them around, and their JSON form.
//!
//! Supported element types: float32, float64, int32 and int64 (inputs and
//! outputs). A model declaring any other input or output type is refused at
//! load time rather than failing on its first job.
//!
//! JSON form (the `infer` subcommand, reference files):
//! `{NAME: {"shape": [..], "data": [..], "dtype": "float32"}}`, row-major; `dtype`
//! is optional and defaults to the model's declared type for that input, so a
//! plain `{"shape", "data"}` file works for float and int64 models alike.

use std::collections::BTreeMap;
use std::fmt;

use ort::value::{DynValue, TensorElementType};
use serde_json::{json, Map, Value};

use crate::SidecarError;

/// Element type of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    F32,
    F64,
    I32,
    I64,
}

impl DType {
    pub const ALL: [DType; 4] = [DType::F32, DType::F64, DType::I32, DType::I64];

    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::I32 => "int32",
            DType::I64 => "int64",
        }
    }

    pub fn size_bytes(self) -> u64 {
        match self {
            DType::F32 | DType::I32 => 4,
            DType::F64 | DType::I64 => 8,
        }
    }

    pub fn parse(s: &str) -> Option<DType> {
        DType::ALL.into_iter().find(|d| d.name() == s)
    }

    pub(crate) fn from_ort(t: TensorElementType) -> Option<DType> {
        match t {
            TensorElementType::Float32 => Some(DType::F32),
            TensorElementType::Float64 => Some(DType::F64),
            TensorElementType::Int32 => Some(DType::I32),
            TensorElementType::Int64 => Some(DType::I64),
            _ => None,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Row-major element storage, one variant per [`DType`].
#[derive(Clone, Debug, PartialEq)]
pub enum TensorData {
    F32(Vec<f32>),
    F64(Vec<f64>),
    I32(Vec<i32>),
    I64(Vec<i64>),
}

/// A dense tensor: shape plus row-major data.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub shape: Vec<i64>,
    pub data: TensorData,
}

/// Tensors by name, in a stable order (inputs and outputs of one job).
pub type NamedTensors = BTreeMap<String, Tensor>;

impl Tensor {
    pub fn new(shape: Vec<i64>, data: TensorData) -> Self {
        Tensor { shape, data }
    }

    pub fn dtype(&self) -> DType {
        match self.data {
            TensorData::F32(_) => DType::F32,
            TensorData::F64(_) => DType::F64,
            TensorData::I32(_) => DType::I32,
            TensorData::I64(_) => DType::I64,
        }
    }

    /// Number of elements actually held (not what the shape claims).
    pub fn len(&self) -> usize {
        match &self.data {
            TensorData::F32(v) => v.len(),
            TensorData::F64(v) => v.len(),
            TensorData::I32(v) => v.len(),
            TensorData::I64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A zero tensor; `shape` must be concrete (no -1).
    pub fn zeros(dtype: DType, shape: Vec<i64>) -> Result<Self, SidecarError> {
        let n = element_count(&shape)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| SidecarError::BadTensor(format!("bad warm-up shape {shape:?}")))?;
        let data = match dtype {
            DType::F32 => TensorData::F32(vec![0.0; n]),
            DType::F64 => TensorData::F64(vec![0.0; n]),
            DType::I32 => TensorData::I32(vec![0; n]),
            DType::I64 => TensorData::I64(vec![0; n]),
        };
        Ok(Tensor { shape, data })
    }

    /// Largest absolute element-wise difference to `other` (as f64); `None` when
    /// dtypes or shapes differ.
    pub fn max_abs_diff(&self, other: &Tensor) -> Option<f64> {
        if self.shape != other.shape || self.len() != other.len() {
            return None;
        }
        let pairs: Vec<(f64, f64)> = match (&self.data, &other.data) {
            (TensorData::F32(a), TensorData::F32(b)) => a
                .iter()
                .zip(b)
                .map(|(x, y)| (f64::from(*x), f64::from(*y)))
                .collect(),
            (TensorData::F64(a), TensorData::F64(b)) => {
                a.iter().copied().zip(b.iter().copied()).collect()
            }
            (TensorData::I32(a), TensorData::I32(b)) => a
                .iter()
                .zip(b)
                .map(|(x, y)| (f64::from(*x), f64::from(*y)))
                .collect(),
            (TensorData::I64(a), TensorData::I64(b)) => a
                .iter()
                .zip(b)
                .map(|(x, y)| (*x as f64, *y as f64))
                .collect(),
            _ => return None,
        };
        Some(pairs.iter().fold(0.0, |m, (x, y)| {
            let d = (x - y).abs();
            // NaN on either side is a total mismatch, not a zero difference.
            if d.is_nan() {
                f64::INFINITY
            } else {
                m.max(d)
            }
        }))
    }

    /// Test-only fault `wrong`: moves every element by `delta` so that any honest
    /// comparison (tolerance, argmax of a small model) disagrees.
    pub fn perturb(&mut self, delta: f64) {
        match &mut self.data {
            TensorData::F32(v) => v.iter_mut().for_each(|x| *x += delta as f32),
            TensorData::F64(v) => v.iter_mut().for_each(|x| *x += delta),
            TensorData::I32(v) => v
                .iter_mut()
                .for_each(|x| *x = x.saturating_add(delta as i32)),
            TensorData::I64(v) => v
                .iter_mut()
                .for_each(|x| *x = x.saturating_add(delta as i64)),
        }
    }

    /// Test-only fault `noise=REL`: `x -> x * (1 + s*rel)` for every float
    /// element, with the sign `s` (+1 or -1) fixed by `seed` and the element's
    /// index, like a device that rounds differently. Integer tensors are left alone.
    pub fn perturb_relative(&mut self, rel: f64, seed: u64) {
        let factor = |i: usize| {
            if splitmix64(seed.wrapping_add(i as u64)) & 1 == 0 {
                1.0 + rel
            } else {
                1.0 - rel
            }
        };
        match &mut self.data {
            TensorData::F32(v) => v
                .iter_mut()
                .enumerate()
                .for_each(|(i, x)| *x = (f64::from(*x) * factor(i)) as f32),
            TensorData::F64(v) => v.iter_mut().enumerate().for_each(|(i, x)| *x *= factor(i)),
            TensorData::I32(_) | TensorData::I64(_) => {}
        }
    }

    /// Hands the data to ONNX Runtime without copying it again.
    pub(crate) fn into_ort(self) -> Result<DynValue, SidecarError> {
        let expected = element_count(&self.shape);
        if expected != Some(self.len() as u64) {
            // ort trusts the buffer length to match the shape; never let it read past the end.
            return Err(SidecarError::BadTensor(format!(
                "shape {:?} does not match {} elements",
                self.shape,
                self.len()
            )));
        }
        let shape = self.shape;
        let value = match self.data {
            TensorData::F32(v) => ort::value::Tensor::from_array((shape, v)).map(|t| t.into_dyn()),
            TensorData::F64(v) => ort::value::Tensor::from_array((shape, v)).map(|t| t.into_dyn()),
            TensorData::I32(v) => ort::value::Tensor::from_array((shape, v)).map(|t| t.into_dyn()),
            TensorData::I64(v) => ort::value::Tensor::from_array((shape, v)).map(|t| t.into_dyn()),
        };
        value.map_err(SidecarError::ort)
    }

    /// Copies a model output out of ONNX Runtime.
    pub(crate) fn from_ort(name: &str, value: &DynValue) -> Result<Self, SidecarError> {
        let ty = value
            .dtype()
            .tensor_type()
            .and_then(DType::from_ort)
            .ok_or_else(|| {
                SidecarError::Run(format!(
                    "output `{name}` has unsupported type {:?}",
                    value.dtype()
                ))
            })?;
        let err = |e: ort::Error| SidecarError::Run(format!("output `{name}`: {e}"));
        let (shape, data) = match ty {
            DType::F32 => {
                let (s, d) = value.try_extract_tensor::<f32>().map_err(err)?;
                (s.to_vec(), TensorData::F32(d.to_vec()))
            }
            DType::F64 => {
                let (s, d) = value.try_extract_tensor::<f64>().map_err(err)?;
                (s.to_vec(), TensorData::F64(d.to_vec()))
            }
            DType::I32 => {
                let (s, d) = value.try_extract_tensor::<i32>().map_err(err)?;
                (s.to_vec(), TensorData::I32(d.to_vec()))
            }
            DType::I64 => {
                let (s, d) = value.try_extract_tensor::<i64>().map_err(err)?;
                (s.to_vec(), TensorData::I64(d.to_vec()))
            }
        };
        Ok(Tensor { shape, data })
    }

    pub fn to_json(&self) -> Value {
        let data = match &self.data {
            TensorData::F32(v) => json!(v),
            TensorData::F64(v) => json!(v),
            TensorData::I32(v) => json!(v),
            TensorData::I64(v) => json!(v),
        };
        json!({"dtype": self.dtype().name(), "shape": self.shape, "data": data})
    }

    /// Parses one `{"shape", "data", "dtype"?}` object; `default` is the dtype
    /// used when the object does not name one.
    pub fn from_json(name: &str, v: &Value, default: DType) -> Result<Self, SidecarError> {
        let bad = |msg: String| SidecarError::BadTensor(format!("input `{name}`: {msg}"));
        let obj = v
            .as_object()
            .ok_or_else(|| bad("expected an object with `shape` and `data`".into()))?;
        let dtype = match obj.get("dtype") {
            None => default,
            Some(d) => d.as_str().and_then(DType::parse).ok_or_else(|| {
                bad(format!(
                    "unknown dtype {d} (float32, float64, int32, int64)"
                ))
            })?,
        };
        let shape = obj
            .get("shape")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("missing `shape` array".into()))?
            .iter()
            .map(|d| {
                d.as_i64()
                    .ok_or_else(|| bad(format!("shape entry {d} is not an integer")))
            })
            .collect::<Result<Vec<i64>, _>>()?;
        let items = obj
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("missing `data` array".into()))?;
        let float = |x: &Value| {
            x.as_f64()
                .ok_or_else(|| bad(format!("{x} is not a number")))
        };
        let int = |x: &Value| {
            x.as_i64()
                .ok_or_else(|| bad(format!("{x} is not an integer (dtype {dtype})")))
        };
        let data = match dtype {
            DType::F32 => TensorData::F32(
                items
                    .iter()
                    .map(|x| float(x).map(|f| f as f32))
                    .collect::<Result<_, _>>()?,
            ),
            DType::F64 => TensorData::F64(items.iter().map(float).collect::<Result<_, _>>()?),
            DType::I32 => TensorData::I32(
                items
                    .iter()
                    .map(|x| {
                        int(x).and_then(|i| {
                            i32::try_from(i).map_err(|_| bad(format!("{i} does not fit int32")))
                        })
                    })
                    .collect::<Result<_, _>>()?,
            ),
            DType::I64 => TensorData::I64(items.iter().map(int).collect::<Result<_, _>>()?),
        };
        Ok(Tensor { shape, data })
    }
}

/// SplitMix64's output function: a well-mixed 64-bit value from a counter.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Product of the dims, `None` on a negative dim or overflow.
pub fn element_count(shape: &[i64]) -> Option<u64> {
    shape.iter().try_fold(1u64, |acc, &d| {
        u64::try_from(d).ok().and_then(|d| acc.checked_mul(d))
    })
}

/// `{NAME: tensor}` as JSON.
pub fn tensors_to_json(tensors: &NamedTensors) -> Value {
    Value::Object(
        tensors
            .iter()
            .map(|(k, t)| (k.clone(), t.to_json()))
            .collect::<Map<String, Value>>(),
    )
}

/// Parses `{NAME: {"shape", "data", "dtype"?}}`; `default_dtype` gives the
/// dtype to assume for a name (the model's declared one), float32 otherwise.
pub fn tensors_from_json(
    v: &Value,
    default_dtype: impl Fn(&str) -> Option<DType>,
) -> Result<NamedTensors, SidecarError> {
    let obj = v.as_object().ok_or_else(|| {
        SidecarError::BadTensor("inputs must be a JSON object {NAME: {shape, data}}".into())
    })?;
    obj.iter()
        .map(|(k, t)| {
            let dtype = default_dtype(k).unwrap_or(DType::F32);
            Tensor::from_json(k, t, dtype).map(|t| (k.clone(), t))
        })
        .collect()
}
