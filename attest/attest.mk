# attest/: vTPM, measured boot, event log, attestation, the verifier.
# Explicit source lists; the rules are in the top Makefile.

# --- vTPM and measured boot (issue 7) ---

# --- attestation / verifier (issue 8) ---
