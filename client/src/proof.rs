//! Checking the ICS-23 proofs a node returns for `/store/key` queries.

/// Verifies a proof returned by the node's store (`Store::get_with_proof`, the
/// `/store/key` ABCI query) against `app_hash`: membership of `value` under
/// `key`, or non-membership when `value` is `None`.
pub fn verify_proof(
    app_hash: &[u8],
    proof: &ics23::CommitmentProof,
    key: &[u8],
    value: Option<&[u8]>,
) -> bool {
    let spec = jmt::ics23_spec();
    match value {
        Some(v) => ics23::verify_membership::<ics23::HostFunctionsManager>(
            proof,
            &spec,
            &app_hash.to_vec(),
            key,
            v,
        ),
        None => ics23::verify_non_membership::<ics23::HostFunctionsManager>(
            proof,
            &spec,
            &app_hash.to_vec(),
            key,
        ),
    }
}
