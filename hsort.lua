local t = {}
for i = 1, 5 do t[i] = {url = "http://127.0.0.1:18777/", timeout_ms = 2000} end
print(pcall(table.sort, t, titan.http.request))
print("ESCAPED")
