"""Drive the API with NVIDIA's official Triton HTTP client (tritonclient[http]), an independent implementation of
the Open Inference Protocol (KServe V2). Prints one JSON object with what the client saw; the vitest test checks it.
Usage: python oip_client.py <host:port> <rows as JSON: [[13 numbers], ...]>
"""
import json
import sys

import numpy as np
import tritonclient.http as httpclient

url, rows_json = sys.argv[1], sys.argv[2]
rows = np.array(json.loads(rows_json), dtype=np.float32)
client = httpclient.InferenceServerClient(url=url)
out = {
    "live": client.is_server_live(),
    "ready": client.is_server_ready(),
    "model_ready": client.is_model_ready("heart-disease"),
    "server": client.get_server_metadata(),
    "metadata": client.get_model_metadata("heart-disease"),
}
features = httpclient.InferInput("features", list(rows.shape), "FP32")
features.set_data_from_numpy(rows, binary_data=False)
outputs = [
    httpclient.InferRequestedOutput("label", binary_data=False),
    httpclient.InferRequestedOutput("probabilities", binary_data=False),
]
result = client.infer("heart-disease", inputs=[features], outputs=outputs, request_id="triton-client-1")
out["response"] = result.get_response()
out["label"] = result.as_numpy("label").tolist()
out["probabilities"] = result.as_numpy("probabilities").tolist()
try:
    bad = httpclient.InferInput("features", [1, 12], "FP32")
    bad.set_data_from_numpy(np.zeros((1, 12), dtype=np.float32), binary_data=False)
    client.infer("heart-disease", inputs=[bad])
    out["bad_shape_error"] = None
except Exception as error:  # the client raises InferenceServerException with the server's "error" message
    out["bad_shape_error"] = str(error)
print(json.dumps(out))
