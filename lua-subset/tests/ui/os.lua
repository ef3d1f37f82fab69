-- expect: 2:29 library function `os` is not available in filters
return function(pkt) return os.time() end
