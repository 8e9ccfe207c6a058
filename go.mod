module github.com/airbranch/airbranch

go 1.26.8
