// attn-set-target refuses an option that disagrees with the module's
// #attn.target, and a module attribute under that name that is not one.
// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-set-target="target=gpu threads=2 tensor-cores=true"

// expected-error @+1 {{attn-set-target: target = gpu disagrees with the module's #attn.target kind = "cpu"}}
module attributes {attn.target = #attn.target<kind = "cpu">} {
}

// -----

// expected-error @+1 {{attn-set-target: threads = 2 disagrees with the module's #attn.target threads = 4}}
module attributes {attn.target = #attn.target<kind = "gpu", threads = 4>} {
}

// -----

// expected-error @+1 {{attn-set-target: tensor-cores = true disagrees with the module's #attn.target tensor_cores = false}}
module attributes {attn.target = #attn.target<kind = "gpu", tensor_cores = false>} {
}

// -----

// expected-error @+1 {{attn-set-target: the module's attn.target is not an #attn.target: 3 : i64}}
module attributes {attn.target = 3 : i64} {
}
