console.log("mini");
