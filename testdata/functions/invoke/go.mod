module example.com/invoke

go 1.24
