"""Token-bitmask kernels under XGrammar's module names.

Each ``apply_token_bitmask_inplace_<backend>`` submodule of XGrammar has a
function of that name; here all of them apply the mask with xgram's kernel
for the tensors' device (C++ on the CPU, Triton or torch on an accelerator),
which gives the same logits. The MLX kernel raises
:class:`~xgram.compat.NotSupportedByXgramError`.
"""
