print(titan.http.request{url="http://127.0.0.1:18777/", timeout_ms=8000})
print("ESCAPED")
